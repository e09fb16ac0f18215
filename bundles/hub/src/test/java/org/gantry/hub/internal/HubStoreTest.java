package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.gantry.protocol.ExecutionStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubStoreTest {

  @TempDir Path dir;

  private static HubState sample() {
    HubState s = new HubState();
    Thing t = new Thing();
    t.thingName = "gw-1";
    t.thingId = "id-1";
    t.attributes.put("site", "plant-7");
    t.createdAt = 1_700_000_000_123L;
    s.add(t);
    Job j = new Job();
    j.jobId = "j1";
    j.document = "{\"operation\":\"diagnostics\", \"x\": [1, 2]}";
    j.description = "first";
    j.targets.add("gw-1");
    j.createdAt = 1_700_000_000_000L;
    j.lastUpdatedAt = 1_700_000_000_000L;
    j.inProgressTimeoutInMinutes = 30L;
    s.add(j);
    Execution e = new Execution();
    e.jobId = "j1";
    e.thingName = "gw-1";
    e.executionNumber = 1;
    e.status = ExecutionStatus.IN_PROGRESS;
    e.statusDetails.put("step", "downloading");
    e.queuedAt = 1_700_000_000_000L;
    e.startedAt = 1_700_000_005_000L;
    e.lastUpdatedAt = 1_700_000_005_000L;
    e.versionNumber = 2;
    e.stepTimeoutInMinutes = 10L;
    e.releasedAt = e.queuedAt;
    e.queueSeq = s.nextSeq();
    s.add(e);
    return s;
  }

  @Test
  void aRestartedStoreHasEverythingBack() throws Exception {
    new HubStore(dir).save(sample());

    HubState back = new HubStore(dir).load();

    Thing t = back.thing("gw-1");
    assertEquals("id-1", t.thingId);
    assertEquals(Map.of("site", "plant-7"), t.attributes);
    assertEquals(1_700_000_000_123L, t.createdAt);
    Job j = back.job("j1");
    assertEquals("{\"operation\":\"diagnostics\", \"x\": [1, 2]}", j.document, "kept as written");
    assertEquals("first", j.description);
    assertEquals(List.of("gw-1"), j.targets);
    assertEquals(30L, j.inProgressTimeoutInMinutes);
    Execution e = back.execution("gw-1", "j1", null);
    assertEquals(ExecutionStatus.IN_PROGRESS, e.status);
    assertEquals(Map.of("step", "downloading"), e.statusDetails);
    assertEquals(2, e.versionNumber);
    assertEquals(1_700_000_005_000L, e.startedAt);
    assertEquals(10L, e.stepTimeoutInMinutes);
    assertEquals(1, back.lastSeq());
    assertEquals(2, back.nextSeq(), "the queue order continues after a restart");
  }

  @Test
  void anAbsentStoreIsAnEmptyHub() throws Exception {
    HubState s = new HubStore(dir.resolve("new")).load();
    assertTrue(s.things().isEmpty());
    assertTrue(s.jobs().isEmpty());
    assertTrue(Files.isDirectory(dir.resolve("new")));
  }

  @Test
  void aSaveReplacesTheFileAndLeavesNoTemporaryFile() throws Exception {
    HubStore store = new HubStore(dir);
    HubState s = sample();
    store.save(s);
    s.execution("gw-1", "j1", null).status = ExecutionStatus.SUCCEEDED;
    store.save(s);
    assertEquals(
        ExecutionStatus.SUCCEEDED, new HubStore(dir).load().execution("gw-1", "j1", 1L).status);
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(
          List.of(HubStore.LOG + "2", HubStore.FILE),
          files.map(p -> p.getFileName().toString()).sorted().toList(),
          "the snapshot and the (empty) log of its generation; the first log is deleted");
    }
  }

  @Test
  void loggedBatchesAreReplayedOnTopOfTheSnapshot() throws Exception {
    HubStore store = new HubStore(dir);
    HubState s = store.load();
    fill(s);
    store.append(s.drainOps());
    Execution e = s.execution("gw-1", "j1", 1L);
    s.setStatus(e, ExecutionStatus.SUCCEEDED);
    e.versionNumber = 3;
    s.touch(e);
    store.append(s.drainOps());
    store.close();

    HubState back = new HubStore(dir).load();

    Execution again = back.execution("gw-1", "j1", 1L);
    assertEquals(ExecutionStatus.SUCCEEDED, again.status);
    assertEquals(3, again.versionNumber);
    assertEquals(Map.of("site", "plant-7"), back.thing("gw-1").attributes);
    assertEquals(1, back.counts("j1").things(ExecutionStatus.SUCCEEDED), "counts rebuilt");
  }

  @Test
  void aTornLastBatchIsDroppedAndTheOnesBeforeItKept() throws Exception {
    HubStore store = new HubStore(dir);
    HubState s = store.load();
    fill(s);
    store.append(s.drainOps());
    long good = store.logSize();
    Execution e = s.execution("gw-1", "j1", 1L);
    s.setStatus(e, ExecutionStatus.FAILED);
    store.append(s.drainOps());
    Path log = store.logFile();
    store.close();
    // A crash in the middle of the second write: only part of its record reached the disk.
    byte[] all = Files.readAllBytes(log);
    Files.write(log, java.util.Arrays.copyOf(all, (int) good + 11));

    HubState back = new HubStore(dir).load();

    assertEquals(ExecutionStatus.IN_PROGRESS, back.execution("gw-1", "j1", 1L).status);
    assertEquals(good, Files.size(log), "the torn record is cut off");
  }

  @Test
  void aCrashAtAnyByteOfAWriteLeavesTheBatchBeforeIt() throws Exception {
    HubStore store = new HubStore(dir);
    HubState s = store.load();
    fill(s);
    store.append(s.drainOps());
    long good = store.logSize();
    s.setStatus(s.execution("gw-1", "j1", 1L), ExecutionStatus.SUCCEEDED);
    store.append(s.drainOps());
    Path log = store.logFile();
    store.close();
    byte[] all = Files.readAllBytes(log);
    for (int cut = (int) good; cut < all.length; cut++) {
      Files.write(log, java.util.Arrays.copyOf(all, cut));
      HubStore again = new HubStore(dir);
      HubState back = again.load();
      again.close();
      assertEquals(
          ExecutionStatus.IN_PROGRESS, back.execution("gw-1", "j1", 1L).status, "cut at " + cut);
    }
    Files.write(log, all);
    assertEquals(
        ExecutionStatus.SUCCEEDED, new HubStore(dir).load().execution("gw-1", "j1", 1L).status);
  }

  @Test
  void aCorruptBatchEndsTheReplayAndTheLogIsKeptAside() throws Exception {
    HubStore store = new HubStore(dir);
    HubState s = store.load();
    fill(s);
    store.append(s.drainOps());
    long good = store.logSize();
    s.setStatus(s.execution("gw-1", "j1", 1L), ExecutionStatus.FAILED);
    store.append(s.drainOps());
    Path log = store.logFile();
    store.close();
    byte[] all = Files.readAllBytes(log);
    all[(int) good + 20] ^= 0x5a;
    Files.write(log, all);

    HubState back = new HubStore(dir).load();

    assertEquals(ExecutionStatus.IN_PROGRESS, back.execution("gw-1", "j1", 1L).status);
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.filter(p -> p.getFileName().toString().contains(".corrupt-")).count());
    }
  }

  @Test
  void aLongLogIsCompactedIntoANewSnapshot() throws Exception {
    HubStore store = new HubStore(dir, 1);
    HubState s = store.load();
    fill(s);
    store.append(s.drainOps());
    assertTrue(store.shouldCompact());
    store.compact(s);
    assertEquals(0, store.logSize());
    s.setStatus(s.execution("gw-1", "j1", 1L), ExecutionStatus.SUCCEEDED);
    store.append(s.drainOps());
    store.close();

    HubState back = new HubStore(dir).load();

    assertEquals(ExecutionStatus.SUCCEEDED, back.execution("gw-1", "j1", 1L).status);
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(
          List.of(HubStore.LOG + "1", HubStore.FILE),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void principalAttachmentsSurviveTheLogAndACompaction() throws Exception {
    HubStore store = new HubStore(dir);
    HubState s = store.load();
    fill(s);
    Thing sensor = new Thing();
    sensor.thingName = "sensor-1";
    sensor.thingId = "id-2";
    s.add(sensor);
    s.attach("gw-1", "gateway-7");
    s.attach("sensor-1", "gateway-7");
    s.attach("sensor-1", "other");
    assertTrue(s.drainPrincipalsChanged());
    store.append(s.drainOps());
    s.detach("sensor-1", "other");
    store.append(s.drainOps());
    store.close();

    HubState replayed = new HubStore(dir).load();
    assertEquals(Map.of("gateway-7", List.of("gw-1", "sensor-1")), replayed.attachments());
    assertFalse(replayed.drainPrincipalsChanged(), "a load is no change");

    HubStore again = new HubStore(dir);
    HubState s2 = again.load();
    again.compact(s2);
    again.close();
    HubState compacted = new HubStore(dir).load();
    assertEquals(List.of("gateway-7"), compacted.principalsOf("sensor-1"));
    assertEquals(List.of("gw-1", "sensor-1"), compacted.thingsOf("gateway-7"));
  }

  /** The sample's entities, added through the state so that they are recorded as changes. */
  private static void fill(HubState s) {
    HubState sample = sample();
    sample.things().forEach(s::add);
    sample.jobs().forEach(s::add);
    sample.executions().forEach(s::add);
  }

  @Test
  void aLeftoverTemporaryFileIsAnUnfinishedWriteAndIgnored() throws Exception {
    new HubStore(dir).save(sample());
    Files.writeString(dir.resolve(HubStore.FILE + ".tmp"), "{\"format\":1,\"thin");
    HubState s = new HubStore(dir).load();
    assertNotNull(s.job("j1"));
    assertFalse(Files.exists(dir.resolve(HubStore.FILE + ".tmp")));
  }

  @Test
  void aTruncatedFileIsQuarantinedAndTheHubStartsEmpty() throws Exception {
    new HubStore(dir).save(sample());
    Path file = dir.resolve(HubStore.FILE);
    byte[] all = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(all, all.length / 2));

    HubState s = new HubStore(dir).load();

    assertNull(s.job("j1"));
    assertFalse(Files.exists(file));
    Path aside = quarantined();
    assertEquals(all.length / 2, Files.size(aside), "the bad file is kept for inspection");
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(
          1,
          files
              .filter(p -> p.getFileName().toString().startsWith(HubStore.LOG + "1.corrupt-"))
              .count(),
          "its log is kept with it, not replayed and not deleted");
    }
  }

  @Test
  void aFileThatIsNotUtf8IsQuarantined() throws Exception {
    Files.write(dir.resolve(HubStore.FILE), new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'});
    assertTrue(new HubStore(dir).load().jobs().isEmpty());
    quarantined();
  }

  @Test
  void validJsonThatBreaksTheModelIsQuarantined() throws Exception {
    // An execution of a job that does not exist.
    Files.writeString(
        dir.resolve(HubStore.FILE),
        "{\"format\":1,\"lastSeq\":1,\"things\":[],\"jobs\":[],\"executions\":[{\"jobId\":\"j9\","
            + "\"thingName\":\"t\",\"executionNumber\":1,\"status\":\"QUEUED\",\"versionNumber\":1}]}",
        StandardCharsets.UTF_8);
    assertTrue(new HubStore(dir).load().executions().isEmpty());
    quarantined();
  }

  @Test
  void anUnknownFormatIsQuarantined() throws Exception {
    Files.writeString(
        dir.resolve(HubStore.FILE),
        "{\"format\":3,\"lastSeq\":0,\"things\":[],\"jobs\":[],\"executions\":[]}");
    new HubStore(dir).load();
    quarantined();
  }

  private Path quarantined() throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> aside =
          files
              .filter(p -> p.getFileName().toString().startsWith(HubStore.FILE + ".corrupt-"))
              .toList();
      assertEquals(1, aside.size(), "exactly one quarantined file");
      return aside.get(0);
    }
  }
}
