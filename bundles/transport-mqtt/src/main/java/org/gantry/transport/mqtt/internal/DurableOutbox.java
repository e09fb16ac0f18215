package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.zip.CRC32C;
import org.gantry.api.transport.TransportException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable outbox: messages accepted only once on disk, then delivered at least once and in
 * order, across disconnects and restarts (decision record in the README).
 *
 * <p>On disk: append-only segment files {@code seg-<first sequence number>.log} of records {@code
 * [int length][int CRC-32C][long seq][int topic length][topic UTF-8][payload]}, and a file {@code
 * acked} with the highest sequence number up to which everything was acknowledged. One writer
 * thread appends and forces the file once per batch (group commit: one fsync for however many
 * messages arrived meanwhile), then completes the stages of that batch. A segment is deleted when
 * every record in it is acknowledged. A segment with a bad record (a torn tail after power loss, a
 * damaged disk block) is moved to {@code quarantine/} with a log line; its records before the
 * damage are written again to a fresh segment and delivered with the rest.
 *
 * <p>Sending (delivery thread only): every record not yet acknowledged waits in {@link #unacked} in
 * sequence order. While connected, at most {@code window} of them are handed to the publisher at a
 * time, in order. When a publish fails (the connection dropped) the pump starts again from the
 * oldest unacknowledged record once connected again, so the broker may see a message twice but
 * never a later one before an earlier one.
 */
final class DurableOutbox {

  /** Sends one QoS 1 message; the stage completes on the delivery thread. */
  @FunctionalInterface
  interface Publisher {
    CompletableFuture<Void> publish(String topic, byte[] payload);
  }

  static final String QUARANTINE = "quarantine";
  static final String ACKED = "acked";

  private static final Logger LOG = LoggerFactory.getLogger(DurableOutbox.class);
  private static final long SEGMENT_BYTES = 4L * 1024 * 1024;
  private static final int HEADER = 8;
  private static final int MAX_RECORD = 16 * 1024 * 1024;
  private static final long RESUME_AFTER_ERROR_MILLIS = 1_000;

  private final Path dir;
  private final long maxBytes;
  private final String clientId;
  private final Executor delivery;
  private final BiConsumer<Runnable, Long> scheduler;
  private final LinkedBlockingQueue<Object> commands = new LinkedBlockingQueue<>();
  private final Thread writer;
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong backlog = new AtomicLong();
  private volatile boolean closed;
  private volatile long ackedUpTo;

  // writer thread
  private long nextSeq;
  private Segment active;
  private FileChannel activeChannel;
  private long writtenAckedUpTo;

  // delivery thread
  private final ArrayDeque<Rec> unacked = new ArrayDeque<>();
  private ArrayDeque<Rec> toSend = new ArrayDeque<>();
  private Publisher publisher;
  private int window;
  private int inflight;
  private long epoch;
  private boolean paused;

  /**
   * Opens (or creates) the outbox in {@code dir}, reads what a previous run left there and starts
   * the writer thread.
   *
   * @param delivery where stages complete and sending happens
   * @param scheduler runs a task on the delivery thread after a delay in milliseconds
   * @throws IOException when the folder cannot be created or read
   */
  DurableOutbox(
      Path dir,
      long maxBytes,
      String clientId,
      Executor delivery,
      BiConsumer<Runnable, Long> scheduler,
      String threadName)
      throws IOException {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.clientId = clientId;
    this.delivery = delivery;
    this.scheduler = scheduler;
    Files.createDirectories(dir);
    load();
    writer = new Thread(this::writeLoop, threadName);
    writer.setDaemon(true);
    writer.start();
  }

  /** Accepts a message; the stage completes on the delivery thread once it is on disk. */
  CompletableFuture<Void> append(String topic, byte[] payload) {
    Append append = new Append(topic, topic.getBytes(UTF_8), payload.clone());
    long size = append.size();
    if (size > MAX_RECORD) {
      append.future.completeExceptionally(
          new TransportException(
              "durable message to '" + topic + "' is " + size + " bytes: at most " + MAX_RECORD,
              null));
      return append.future;
    }
    long total = bytes.addAndGet(size);
    if (total > maxBytes) {
      bytes.addAndGet(-size);
      append.future.completeExceptionally(
          new TransportException(
              "durable outbox of "
                  + clientId
                  + " is full ("
                  + (total - size)
                  + " bytes not yet acknowledged, durable.max.bytes "
                  + maxBytes
                  + "): the message to '"
                  + topic
                  + "' was not accepted",
              null));
      return append.future;
    }
    if (closed) {
      bytes.addAndGet(-size);
      append.future.completeExceptionally(closedException(topic));
      return append.future;
    }
    commands.add(append);
    if (closed && commands.remove(append)) {
      bytes.addAndGet(-size);
      append.future.completeExceptionally(closedException(topic));
    }
    return append.future;
  }

  /** Durable messages accepted and not yet acknowledged. */
  long backlog() {
    return backlog.get();
  }

  /** Delivery thread: a connection is up; send from the oldest unacknowledged message. */
  void connected(Publisher publisher, int window) {
    this.publisher = publisher;
    this.window = window;
    this.paused = false;
    rewind();
    pump();
  }

  /** Delivery thread: the connection is gone; what is in flight will fail or be acked late. */
  void disconnected() {
    publisher = null;
    rewind();
  }

  /**
   * Stops the writer: appends already queued are written and complete, later ones fail. Waits at
   * most {@code millis}.
   */
  void close(long millis) {
    closed = true;
    commands.add(Stop.INSTANCE);
    try {
      writer.join(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writer.isAlive()) {
      LOG.warn("MQTT durable outbox of {}: the writer did not stop within {} ms", clientId, millis);
      writer.interrupt();
    }
  }

  // ---- sending (delivery thread) ----

  private void pump() {
    while (publisher != null && !paused && inflight < window && !toSend.isEmpty()) {
      Rec r = toSend.poll();
      if (r.acked) {
        continue;
      }
      inflight++;
      long e = epoch;
      publisher.publish(r.topic, r.payload).whenComplete((v, error) -> outcome(r, e, error));
    }
  }

  private void outcome(Rec r, long e, Throwable error) {
    if (error == null && !r.acked) {
      r.acked = true;
      ackHead();
    }
    if (e != epoch) {
      return;
    }
    inflight--;
    if (error == null) {
      pump();
      return;
    }
    LOG.debug("MQTT durable message {} not acknowledged: {}", r.seq, error.getMessage());
    // Start again from the oldest unacknowledged message, after a pause: a failure with the
    // connection still up (the client refused the publish) must not become a busy loop.
    rewind();
    paused = true;
    long resumeEpoch = epoch;
    scheduler.accept(
        () -> {
          if (paused && epoch == resumeEpoch) {
            paused = false;
            pump();
          }
        },
        RESUME_AFTER_ERROR_MILLIS);
  }

  private void rewind() {
    epoch++;
    inflight = 0;
    toSend = new ArrayDeque<>(unacked.size());
    for (Rec r : unacked) {
      if (!r.acked) {
        toSend.add(r);
      }
    }
  }

  private void ackHead() {
    long upTo = -1;
    while (!unacked.isEmpty() && unacked.peekFirst().acked) {
      Rec head = unacked.pollFirst();
      upTo = head.seq;
      bytes.addAndGet(-head.size);
      backlog.decrementAndGet();
      if (head.segment.ackOne()) {
        commands.add(new Delete(head.segment));
      }
    }
    if (upTo >= 0) {
      ackedUpTo = upTo;
    }
  }

  private void written(List<Rec> records, List<Append> appends) {
    for (Rec r : records) {
      unacked.addLast(r);
      toSend.addLast(r);
    }
    for (Append a : appends) {
      a.future.complete(null);
    }
    pump();
  }

  // ---- disk (writer thread, and the constructor before it starts) ----

  private void writeLoop() {
    boolean stop = false;
    while (!stop) {
      List<Object> batch = new ArrayList<>();
      try {
        Object first = commands.poll(500, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          commands.drainTo(batch);
        }
      } catch (InterruptedException e) {
        stop = true;
        commands.drainTo(batch);
      }
      List<Append> appends = new ArrayList<>();
      for (Object c : batch) {
        if (c instanceof Append a) {
          appends.add(a);
        } else if (c instanceof Delete d) {
          delete(d.segment);
        } else if (c == Stop.INSTANCE) {
          stop = true;
        }
      }
      if (!appends.isEmpty()) {
        writeBatch(appends);
      }
      writeAckedUpTo();
    }
    closeActive();
    Object left;
    while ((left = commands.poll()) != null) {
      if (left instanceof Append a) {
        bytes.addAndGet(-a.size());
        a.future.completeExceptionally(closedException(a.topic));
      }
    }
  }

  private void writeBatch(List<Append> appends) {
    List<Rec> records = new ArrayList<>(appends.size());
    long startSeq = nextSeq;
    long startPosition = -1;
    Segment segment = null;
    try {
      for (Append a : appends) {
        if (active == null || activeChannel.position() >= SEGMENT_BYTES) {
          if (!records.isEmpty()) {
            // records of a full segment: force them before leaving it
            activeChannel.force(false);
          }
          roll();
          startPosition = -1;
        }
        if (startPosition < 0) {
          startPosition = activeChannel.position();
          segment = active;
        }
        long seq = nextSeq++;
        ByteBuffer buffer = encode(seq, a);
        while (buffer.hasRemaining()) {
          activeChannel.write(buffer);
        }
        Rec r = new Rec(seq, a.topic, a.payload, active, a.size());
        active.written();
        records.add(r);
      }
      activeChannel.force(false);
    } catch (IOException | RuntimeException e) {
      LOG.error(
          "MQTT durable outbox of {} cannot write to {}: {}; {} message(s) refused",
          clientId,
          dir,
          e.toString(),
          appends.size());
      for (Rec r : records) {
        r.segment.unwritten();
      }
      nextSeq = startSeq;
      if (segment == active && startPosition >= 0) {
        try {
          activeChannel.truncate(startPosition);
        } catch (IOException | RuntimeException t) {
          LOG.debug("truncating {} after a failed write failed", active.path, t);
        }
      }
      // a fresh segment next time, away from whatever went wrong with this one
      closeActive();
      for (Append a : appends) {
        bytes.addAndGet(-a.size());
        a.future.completeExceptionally(
            new TransportException(
                "durable outbox "
                    + dir
                    + " cannot write the message to '"
                    + a.topic
                    + "': "
                    + e.getMessage(),
                e));
      }
      return;
    }
    backlog.addAndGet(records.size());
    try {
      delivery.execute(() -> written(records, appends));
    } catch (RejectedExecutionException e) {
      // the transport is closing: the messages are on disk and go out after the next start
      for (Append a : appends) {
        a.future.complete(null);
      }
    }
  }

  private void roll() throws IOException {
    closeActive();
    Path path = dir.resolve(segmentName(nextSeq));
    activeChannel = FileChannel.open(path, CREATE_NEW, WRITE);
    active = new Segment(path);
    forceDirectory();
  }

  private void closeActive() {
    if (active == null) {
      return;
    }
    Segment sealed = active;
    try {
      activeChannel.close();
    } catch (IOException e) {
      LOG.debug("closing {} failed", sealed.path, e);
    }
    active = null;
    activeChannel = null;
    if (sealed.seal()) {
      delete(sealed);
    }
  }

  private void delete(Segment segment) {
    if (segment == active) {
      // only sealed segments go; this one is deleted when it is sealed
      return;
    }
    try {
      Files.deleteIfExists(segment.path);
    } catch (IOException e) {
      LOG.warn("MQTT durable outbox: cannot delete {}: {}", segment.path, e.toString());
    }
  }

  private void writeAckedUpTo() {
    long upTo = ackedUpTo;
    if (upTo == writtenAckedUpTo) {
      return;
    }
    // Losing this file only means duplicates after a restart, never a lost message; still, it is
    // replaced atomically so it is never read half-written.
    Path tmp = dir.resolve(ACKED + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            WRITE,
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(ByteBuffer.wrap(Long.toString(upTo).getBytes(UTF_8)));
      ch.force(false);
    } catch (IOException e) {
      LOG.debug("writing {} failed", tmp, e);
      return;
    }
    try {
      Files.move(tmp, dir.resolve(ACKED), ATOMIC_MOVE, REPLACE_EXISTING);
      writtenAckedUpTo = upTo;
    } catch (IOException e) {
      LOG.debug("renaming {} failed", tmp, e);
    }
  }

  private void forceDirectory() {
    // a new file's directory entry must be on disk too, or the file may vanish after power loss
    try (FileChannel ch = FileChannel.open(dir, READ)) {
      ch.force(true);
    } catch (IOException e) {
      LOG.debug("fsync of the folder {} failed (not supported here?)", dir, e);
    }
  }

  private static ByteBuffer encode(long seq, Append a) {
    int bodyLength = 8 + 4 + a.topicBytes.length + a.payload.length;
    ByteBuffer body = ByteBuffer.allocate(HEADER + bodyLength);
    body.putInt(bodyLength);
    body.putInt(0);
    body.putLong(seq);
    body.putInt(a.topicBytes.length);
    body.put(a.topicBytes);
    body.put(a.payload);
    CRC32C crc = new CRC32C();
    crc.update(body.array(), HEADER, bodyLength);
    body.putInt(4, (int) crc.getValue());
    body.flip();
    return body;
  }

  private static String segmentName(long firstSeq) {
    return String.format("seg-%020d.log", firstSeq);
  }

  /** Reads what a previous run left; runs in the constructor, before the writer starts. */
  private void load() throws IOException {
    long upTo = readAckedUpTo();
    writtenAckedUpTo = upTo;
    ackedUpTo = upTo;
    TreeMap<Long, Path> segments = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "seg-*.log")) {
      for (Path p : files) {
        String name = p.getFileName().toString();
        try {
          segments.put(Long.parseLong(name.substring(4, name.length() - 4)), p);
        } catch (NumberFormatException e) {
          quarantine(p, "its name is not seg-<number>.log");
        }
      }
    }
    long maxSeq = upTo;
    int loaded = 0;
    for (Path path : segments.values()) {
      List<Rec> records = new ArrayList<>();
      Segment segment = new Segment(path);
      String damage = read(path, segment, records);
      if (damage != null) {
        quarantine(path, damage);
      }
      List<Rec> live = new ArrayList<>();
      for (Rec r : records) {
        maxSeq = Math.max(maxSeq, r.seq);
        if (r.seq > upTo) {
          live.add(r);
        }
      }
      if (live.isEmpty()) {
        Files.deleteIfExists(path);
        continue;
      }
      if (damage != null) {
        rewrite(path, live);
      }
      for (Rec r : live) {
        segment.written();
        unacked.add(r);
        bytes.addAndGet(r.size);
      }
      segment.seal();
      loaded += live.size();
    }
    nextSeq = maxSeq + 1;
    backlog.set(loaded);
    if (loaded > 0) {
      LOG.info(
          "MQTT durable outbox of {}: {} message(s) from an earlier run wait for delivery",
          clientId,
          loaded);
    }
  }

  /** Reads the records of a segment; returns what is wrong with it, or null. */
  private static String read(Path path, Segment segment, List<Rec> into) throws IOException {
    byte[] data = Files.readAllBytes(path);
    ByteBuffer in = ByteBuffer.wrap(data);
    while (in.hasRemaining()) {
      int offset = in.position();
      if (in.remaining() < HEADER) {
        return "truncated record header at byte " + offset;
      }
      int length = in.getInt();
      int crc = in.getInt();
      if (length < 12 || length > MAX_RECORD + 12 || length > in.remaining()) {
        return "bad or truncated record at byte " + offset + " (length " + length + ")";
      }
      CRC32C check = new CRC32C();
      check.update(data, in.position(), length);
      if ((int) check.getValue() != crc) {
        return "checksum mismatch in the record at byte " + offset;
      }
      long seq = in.getLong();
      int topicLength = in.getInt();
      if (topicLength < 1 || topicLength > length - 12) {
        return "bad topic length in the record at byte " + offset;
      }
      byte[] topic = new byte[topicLength];
      in.get(topic);
      byte[] payload = new byte[length - 12 - topicLength];
      in.get(payload);
      into.add(
          new Rec(
              seq, new String(topic, UTF_8), payload, segment, topicLength + payload.length + 64L));
    }
    return null;
  }

  private void quarantine(Path path, String why) throws IOException {
    Path folder = dir.resolve(QUARANTINE);
    Files.createDirectories(folder);
    Path target = folder.resolve(path.getFileName() + "." + System.currentTimeMillis());
    Files.move(path, target, ATOMIC_MOVE);
    LOG.error(
        "MQTT durable outbox of {}: {} is damaged ({}); moved to {}, the messages before the"
            + " damage and every other file are still delivered",
        clientId,
        path,
        why,
        target);
  }

  /** Writes the good records of a damaged segment to a fresh file of the same name. */
  private void rewrite(Path path, List<Rec> records) throws IOException {
    Path tmp = dir.resolve(path.getFileName() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            WRITE,
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
      for (Rec r : records) {
        ByteBuffer b = encode(r.seq, new Append(r.topic, r.topic.getBytes(UTF_8), r.payload));
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
      ch.force(false);
    }
    Files.move(tmp, path, ATOMIC_MOVE);
    forceDirectory();
  }

  private long readAckedUpTo() {
    Path file = dir.resolve(ACKED);
    try {
      return Long.parseLong(Files.readString(file, UTF_8).strip());
    } catch (NoSuchFileException e) {
      return 0;
    } catch (IOException | NumberFormatException e) {
      // duplicates at worst: every message on disk is sent again
      LOG.warn(
          "MQTT durable outbox: {} is unreadable ({}); resending all messages", file, e.toString());
      return 0;
    }
  }

  private TransportException closedException(String topic) {
    return new TransportException(
        "transport "
            + clientId
            + " is closed: the durable message to '"
            + topic
            + "' was not accepted",
        null);
  }

  /** A segment file and how many of its records await an acknowledgement. */
  private static final class Segment {
    final Path path;
    private int unacked;
    private boolean sealed;
    private boolean gone;

    Segment(Path path) {
      this.path = path;
    }

    synchronized void written() {
      unacked++;
    }

    synchronized void unwritten() {
      unacked--;
    }

    /** Returns whether the segment can now be deleted. */
    synchronized boolean ackOne() {
      unacked--;
      return claim();
    }

    /** No more records go to this segment; returns whether it can now be deleted. */
    synchronized boolean seal() {
      sealed = true;
      return claim();
    }

    private boolean claim() {
      if (sealed && unacked == 0 && !gone) {
        gone = true;
        return true;
      }
      return false;
    }
  }

  private static final class Rec {
    final long seq;
    final String topic;
    final byte[] payload;
    final Segment segment;
    final long size;
    boolean acked;

    Rec(long seq, String topic, byte[] payload, Segment segment, long size) {
      this.seq = seq;
      this.topic = topic;
      this.payload = payload;
      this.segment = segment;
      this.size = size;
    }
  }

  private static final class Append {
    final String topic;
    final byte[] topicBytes;
    final byte[] payload;
    final CompletableFuture<Void> future = new CompletableFuture<>();

    Append(String topic, byte[] topicBytes, byte[] payload) {
      this.topic = topic;
      this.topicBytes = topicBytes;
      this.payload = payload;
    }

    /** What the message counts against durable.max.bytes: its bytes and a fixed overhead. */
    long size() {
      return topicBytes.length + payload.length + 64L;
    }
  }

  private record Delete(Segment segment) {}

  private enum Stop {
    INSTANCE
  }
}
