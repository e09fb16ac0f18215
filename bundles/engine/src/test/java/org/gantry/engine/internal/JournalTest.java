package org.gantry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {

  /** Everything Properties text must escape, and characters beyond Latin-1. */
  private static final String AWKWARD =
      " leading space, = : # ! \\ tab\there\nnew line\r\f, \u0001, caf\u00e9, \u20ac 10, \u6f22\u5b57,"
          + " \ud83d\ude80 ";

  @Test
  void anEntryWithAwkwardTextComesBackUnchanged() throws Exception {
    Journal.Entry e =
        new Journal.Entry(
            "job-1",
            3,
            7,
            Journal.Phase.REPORTING,
            5,
            "{\"operation\":\"diagnostics\",\"note\":\"" + AWKWARD + "\"}",
            "FAILED",
            Map.of("reason", AWKWARD, " key with = and : ", "v"),
            Map.of("offset", "1024", "name#1", AWKWARD));

    byte[] encoded = Journal.encode(e);

    // The payload is printable ASCII (plus newlines): nothing is lost when it is stored as Latin-1.
    String text = new String(encoded, StandardCharsets.ISO_8859_1);
    assertTrue(text.chars().allMatch(c -> c == '\n' || (c >= 0x20 && c <= 0x7e)), text);
    assertEquals(e, Journal.decode(encoded));
  }

  @Test
  void theEncodingIsAFunctionOfTheEntry() {
    Journal.Entry e =
        new Journal.Entry(
            "job-2",
            1,
            1,
            Journal.Phase.ACTIVE,
            2,
            "{}",
            null,
            Map.of(),
            Map.of("b", "2", "a", "1"));
    Journal.Entry same =
        new Journal.Entry(
            "job-2",
            1,
            1,
            Journal.Phase.ACTIVE,
            2,
            "{}",
            null,
            Map.of(),
            Map.of("a", "1", "b", "2"));

    assertEquals(
        new String(Journal.encode(e), StandardCharsets.ISO_8859_1),
        new String(Journal.encode(same), StandardCharsets.ISO_8859_1));
  }

  @Test
  void aDocumentBeyondLatin1SurvivesAReopen(@TempDir Path dir) throws Exception {
    String document = "{\"operation\":\"diagnostics\",\"label\":\"" + AWKWARD + "\"}";
    Journal journal = new Journal(dir);
    Journal.Entry e = journal.create("job-3", 1, 1, document);
    journal.write(e);
    journal.close();

    Journal reopened = new Journal(dir);
    try {
      List<Journal.Entry> open = reopened.open();
      assertEquals(1, open.size());
      assertEquals(document, open.get(0).document());
    } finally {
      reopened.close();
    }
  }

  @Test
  void commitsWriteOverTheZerosWithoutChangingTheFilesLength(@TempDir Path dir) throws Exception {
    Journal journal = new Journal(dir);
    journal.open(); // starts from a compact log: no entries, then the zeros
    Path log = dir.resolve("journal.log");
    long length = Files.size(log);
    assertEquals(Journal.REGION, length);
    for (int i = 1; i <= 20; i++) {
      Journal.Entry e = journal.create("job-" + i, 1, 1, "{\"operation\":\"x\"}");
      journal.write(e);
      journal.write(e.reporting("SUCCEEDED", Map.of(), 2));
      journal.remove("job-" + i, 1);
      assertEquals(length, Files.size(log), "after job " + i);
    }
    journal.write(journal.create("job-open", 1, 1, "{\"operation\":\"x\"}"));
    journal.close();
    assertEquals(List.of("job-open#1"), List.copyOf(Journal.peek(dir).keySet()));
    Journal reopened = new Journal(dir);
    try {
      assertEquals(1, reopened.open().size());
    } finally {
      reopened.close();
    }
    assertEquals(List.of("journal.log"), names(dir), "zeros after the records are no damage");
  }

  @Test
  void aFullRegionIsCompactedKeepingTheOpenEntries(@TempDir Path dir) throws Exception {
    Journal journal = new Journal(dir);
    String document = "{\"operation\":\"x\",\"pad\":\"" + "p".repeat(1000) + "\"}";
    journal.write(journal.create("kept", 1, 1, document));
    for (int i = 1; i <= 200; i++) { // about 200 KB of records through a 64 KB region
      journal.write(journal.create("job-" + i, 1, 1, document));
      journal.remove("job-" + i, 1);
    }
    assertTrue(Files.size(dir.resolve("journal.log")) < Journal.REGION + 4096);
    journal.close();
    assertEquals(List.of("kept#1"), List.copyOf(Journal.peek(dir).keySet()));
  }

  @Test
  void aZeroHeaderFollowedByRecordsIsDamage(@TempDir Path dir) throws Exception {
    Journal journal = new Journal(dir);
    journal.write(journal.create("first", 1, 1, "{\"operation\":\"x\"}"));
    journal.close();
    Path log = dir.resolve("journal.log");
    byte[] bytes = Files.readAllBytes(log);
    int record = 13 + ByteBuffer.wrap(bytes, 5, 4).getInt();
    // a record where zeros should only be followed by zeros: a page that never reached the disk
    System.arraycopy(bytes, 0, bytes, record + 4096, record);
    Files.write(log, bytes);

    Journal reopened = new Journal(dir);
    try {
      assertEquals(1, reopened.open().size(), "the entry before the damage is kept");
    } finally {
      reopened.close();
    }
    assertEquals(2, names(dir).size(), "the damaged log was copied aside: " + names(dir));
  }

  private static List<String> names(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aRequestedStartNextIsOpenUntilSettledAcrossReopensAndCompactions(@TempDir Path dir)
      throws Exception {
    Journal journal = new Journal(dir);
    assertFalse(journal.nextRequested());
    Journal.Entry reported =
        journal.create("done", 1, 1, "{\"operation\":\"x\"}").reporting("SUCCEEDED", Map.of(), 2);
    journal.requestNext(reported);
    journal.remove("done", 1);
    journal.close();

    // reopening compacts the log: the entry is gone, the open start-next is kept
    Journal reopened = new Journal(dir);
    assertTrue(reopened.nextRequested());
    assertEquals(List.of(), reopened.open());
    reopened.settleNext();
    reopened.close();
    Journal settled = new Journal(dir);
    assertFalse(settled.nextRequested());

    // a start-next still open when the region is full survives the rewrite that makes room
    String document = "{\"operation\":\"x\",\"pad\":\"" + "p".repeat(1000) + "\"}";
    settled.requestNext(settled.create("last", 1, 1, document).reporting("FAILED", Map.of(), 2));
    for (int i = 1; i <= 100; i++) { // about 100 KB of records through a 64 KB region
      settled.write(settled.create("job-" + i, 1, 1, document));
      settled.remove("job-" + i, 1);
    }
    settled.close();
    Journal compacted = new Journal(dir);
    try {
      assertTrue(compacted.nextRequested());
      assertEquals(List.of("last#1"), compacted.open().stream().map(Journal.Entry::key).toList());
    } finally {
      compacted.close();
    }
    assertEquals(List.of("journal.log"), names(dir), "no damage: " + names(dir));
  }

  @Test
  void theEntryAndTheStartNextItRequestsAreOneWrite(@TempDir Path dir) throws Exception {
    Journal journal = new Journal(dir);
    journal.open();
    Journal.Entry reported = journal.create("j", 1, 1, "{}").reporting("SUCCEEDED", Map.of(), 2);
    journal.requestNext(reported);
    journal.close();
    byte[] bytes = Files.readAllBytes(dir.resolve("journal.log"));
    int entry = 13 + ByteBuffer.wrap(bytes, 5, 4).getInt();
    // the start-next record follows the entry directly, so the one sync covers both
    assertEquals(3, bytes[entry + 4], "record type after the entry");
    // cut short after the entry: the entry is kept, the start-next was never asked for
    Files.write(dir.resolve("journal.log"), java.util.Arrays.copyOf(bytes, entry + 15));
    Journal torn = new Journal(dir);
    try {
      assertFalse(torn.nextRequested());
      assertEquals(List.of("j#1"), torn.open().stream().map(Journal.Entry::key).toList());
    } finally {
      torn.close();
    }
  }
}
