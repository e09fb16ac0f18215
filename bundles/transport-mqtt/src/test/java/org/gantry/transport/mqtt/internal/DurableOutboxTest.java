package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.gantry.api.transport.TransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The durable outbox on its own: disk format, restart, damage, order after failures. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DurableOutboxTest {

  @TempDir Path dir;

  private final ScheduledExecutorService delivery = Executors.newSingleThreadScheduledExecutor();
  private final List<DurableOutbox> opened = new ArrayList<>();

  @AfterEach
  void stop() {
    for (DurableOutbox o : opened) {
      o.close(2_000);
    }
    delivery.shutdownNow();
  }

  private DurableOutbox open(long maxBytes) throws IOException {
    DurableOutbox o =
        new DurableOutbox(
            dir,
            maxBytes,
            "gw",
            delivery,
            (task, delay) -> delivery.schedule(task, delay, TimeUnit.MILLISECONDS),
            "test-outbox-writer");
    opened.add(o);
    return o;
  }

  private DurableOutbox open() throws IOException {
    return open(1 << 20);
  }

  private static void closeNow(DurableOutbox o, List<DurableOutbox> opened) {
    o.close(2_000);
    opened.remove(o);
  }

  private static void appendAll(DurableOutbox o, int from, int to) throws Exception {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int i = from; i < to; i++) {
      all.add(o.append("t/" + i, Integer.toString(i).getBytes(UTF_8)));
    }
    CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).get(10, TimeUnit.SECONDS);
  }

  /** A publisher that records every payload it is asked to send and acknowledges at once. */
  private static final class Recorder implements DurableOutbox.Publisher {
    final List<Integer> sent = new CopyOnWriteArrayList<>();
    volatile int failOnce = -1;

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload) {
      int n = Integer.parseInt(new String(payload, UTF_8));
      assertEquals("t/" + n, topic, "topic travels with its payload");
      sent.add(n);
      if (n == failOnce) {
        failOnce = -1;
        return CompletableFuture.failedFuture(new TransportException("connection lost", null));
      }
      return CompletableFuture.completedFuture(null);
    }
  }

  private void connect(DurableOutbox o, Recorder r, int window) throws Exception {
    delivery.submit(() -> o.connected(r, window)).get(5, TimeUnit.SECONDS);
  }

  private static void awaitSent(DurableOutbox o, Recorder r, int count) throws Exception {
    Await.until(
        () -> o.backlog() == 0 && r.sent.size() >= count,
        "all "
            + count
            + " sent and acknowledged; sent "
            + r.sent.size()
            + ", "
            + o.backlog()
            + " left");
  }

  @Test
  void messagesSurviveARestartAndGoOutInOrderThenTheFilesAreGone() throws Exception {
    DurableOutbox first = open();
    appendAll(first, 0, 300);
    assertEquals(300, first.backlog());
    closeNow(first, opened);

    DurableOutbox second = open();
    assertEquals(300, second.backlog(), "what was accepted is still there after a restart");
    Recorder r = new Recorder();
    connect(second, r, 7);
    awaitSent(second, r, 300);
    assertEquals(rangeList(0, 300), r.sent, "in order, once each when nothing fails");
    closeNow(second, opened);

    DurableOutbox third = open();
    assertEquals(0, third.backlog(), "acknowledged messages are not sent again");
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(
          files.noneMatch(p -> p.getFileName().toString().startsWith("seg-")),
          "acknowledged segments are deleted");
    }
  }

  @Test
  void aFailedPublishRestartsFromTheOldestUnacknowledgedMessage() throws Exception {
    DurableOutbox o = open();
    Recorder r = new Recorder();
    r.failOnce = 40;
    connect(o, r, 16);
    appendAll(o, 0, 100);
    awaitSent(o, r, 100);
    assertNoGapAndComplete(r.sent, 100);
    assertTrue(r.sent.size() > 100, "40 was sent again: " + r.sent.size());
  }

  @Test
  void aTornTailIsQuarantinedAndTheWholeRecordsAreDelivered() throws Exception {
    DurableOutbox first = open();
    appendAll(first, 0, 10);
    closeNow(first, opened);
    Path segment = onlySegment();
    // power lost in the middle of an append: half a record header
    Files.write(segment, new byte[] {0, 0, 1}, StandardOpenOption.APPEND);

    DurableOutbox second = open();
    assertEquals(10, second.backlog());
    assertEquals(1, quarantined(), "the damaged file is kept for a post-mortem");
    Recorder r = new Recorder();
    connect(second, r, 4);
    awaitSent(second, r, 10);
    assertEquals(rangeList(0, 10), r.sent);
  }

  @Test
  void aDamagedRecordKeepsTheRecordsBeforeItAndOtherFiles() throws Exception {
    DurableOutbox first = open();
    appendAll(first, 0, 10);
    closeNow(first, opened);
    Path segment = onlySegment();
    byte[] data = Files.readAllBytes(segment);
    // records here are 8 + 8 + 4 + topic + payload bytes; flip a byte inside the 7th record
    int offset = 0;
    for (int i = 0; i < 6; i++) {
      offset += 8 + java.nio.ByteBuffer.wrap(data, offset, 4).getInt();
    }
    data[offset + 20] ^= 0x55;
    Files.write(segment, data);

    DurableOutbox second = open();
    assertEquals(6, second.backlog(), "records 0..5 come before the damage");
    assertEquals(1, quarantined());
    appendAll(second, 10, 12);
    Recorder r = new Recorder();
    connect(second, r, 4);
    awaitSent(second, r, 8);
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 10, 11), r.sent);
  }

  @Test
  void fullSegmentsRollOverAndAreDeletedOnceAcknowledged() throws Exception {
    DurableOutbox first = open(64L << 20);
    byte[] big = new byte[1 << 20];
    for (int i = 0; i < 6; i++) {
      byte[] payload = big.clone();
      byte[] n = Integer.toString(i).getBytes(UTF_8);
      System.arraycopy(n, 0, payload, 0, n.length);
      first.append("big/" + i, payload).get(10, TimeUnit.SECONDS);
    }
    closeNow(first, opened);
    assertEquals(2, segments(), "4 MiB per segment");

    DurableOutbox second = open(64L << 20);
    assertEquals(6, second.backlog());
    List<String> topics = new CopyOnWriteArrayList<>();
    delivery
        .submit(
            () ->
                second.connected(
                    (topic, payload) -> {
                      topics.add(topic);
                      return CompletableFuture.completedFuture(null);
                    },
                    2))
        .get(5, TimeUnit.SECONDS);
    Await.until(() -> second.backlog() == 0, "all acknowledged");
    assertEquals(List.of("big/0", "big/1", "big/2", "big/3", "big/4", "big/5"), topics);
    Await.until(
        () -> {
          try {
            return segments() == 0;
          } catch (IOException e) {
            return false;
          }
        },
        "both segments deleted");
  }

  private long segments() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith("seg-")).count();
    }
  }

  @Test
  void aFullOutboxRefusesWithAReason() throws Exception {
    DurableOutbox o = open(2048);
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> {
              for (int i = 0; i < 100; i++) {
                o.append("t/" + i, new byte[100]).get(5, TimeUnit.SECONDS);
              }
            });
    assertInstanceOf(TransportException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("durable.max.bytes 2048"), e.getMessage());
  }

  static void assertNoGapAndComplete(List<Integer> seen, int count) {
    int max = -1;
    for (int i = 0; i < seen.size(); i++) {
      int n = seen.get(i);
      assertTrue(
          n <= max + 1, "message " + n + " arrived before " + (max + 1) + " (position " + i + ")");
      max = Math.max(max, n);
    }
    assertEquals(count - 1, max, "every message arrived");
  }

  private static List<Integer> rangeList(int from, int to) {
    List<Integer> l = new ArrayList<>();
    for (int i = from; i < to; i++) {
      l.add(i);
    }
    return l;
  }

  private Path onlySegment() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> segs = files.filter(p -> p.getFileName().toString().startsWith("seg-")).toList();
      assertEquals(1, segs.size(), segs.toString());
      return segs.get(0);
    }
  }

  private long quarantined() throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve(DurableOutbox.QUARANTINE))) {
      return files.count();
    }
  }
}
