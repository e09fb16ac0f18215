package org.gantry.engine.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's memory of the executions of one thing that are not over yet: an append-only log,
 * {@code <data>/journal/<thing>/journal.log}. Every change of an execution's entry is appended and
 * the file synced (fdatasync) before the engine acts on it (a side effect, a status report); an
 * execution the service has acknowledged as over gets a closing record (not synced: if it is lost,
 * recovery settles the execution with the service). At every start, and whenever the next record
 * would not fit, the log is rewritten atomically (temporary file, fsync, rename, fsync of the
 * folder) with the open entries only.
 *
 * <p>The file is written with {@link #REGION} bytes of zeros after its records, and records are
 * written over those zeros. A commit then changes neither the file's length nor its allocation, so
 * fdatasync writes the record's page and nothing of the file system's own metadata: two commits and
 * a close cost 0.34 ms instead of 0.58 ms when the log grew and was emptied (measured on the
 * development machine's ext4). Replay ends cleanly where only zeros remain.
 *
 * <p>A record is {@code magic "GJL1", type, length, CRC-32 of type and payload, payload}; an
 * entry's payload is {@link Properties} text under a {@code #crc32=<hex>} line, readable by an
 * operator. A third kind of record, {@code next}, says whether the engine asked the service to
 * start the next execution ({@code start-next}) and has not yet recorded what it got: while it is
 * open, an IN_PROGRESS execution the journal does not know was started by this gateway, before any
 * side effect (see {@link #requestNext}). A record that is cut short or fails its checksum ends the
 * replay: the log is copied aside (quarantined, {@code journal.log.corrupt-<time>}) with an ERROR
 * line, the entries read before it are kept, and the service is the source of truth for the rest.
 */
final class Journal {

  private static final String HEX = "0123456789ABCDEF";

  private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

  /** Where an execution is in its life on this gateway. */
  enum Phase {
    /**
     * Accepted by the gateway: IN_PROGRESS is requested or granted, and the operation may be
     * running. Written once, before IN_PROGRESS is requested; whether the service granted it is
     * read from the service at recovery, which saves a disk sync per execution.
     */
    ACTIVE,
    /** The terminal status is decided and being reported: the entry is the durable outbox. */
    REPORTING
  }

  /** One execution's record. Immutable; {@code with...} methods make changed copies. */
  record Entry(
      String jobId,
      long executionNumber,
      long sequence,
      Phase phase,
      long version,
      String document,
      String terminalStatus,
      Map<String, String> terminalDetails,
      Map<String, String> checkpoints) {

    Entry {
      terminalDetails = Map.copyOf(terminalDetails);
      checkpoints = Map.copyOf(checkpoints);
    }

    Entry withPhase(Phase p, long v) {
      return new Entry(
          jobId,
          executionNumber,
          sequence,
          p,
          v,
          document,
          terminalStatus,
          terminalDetails,
          checkpoints);
    }

    Entry reporting(String status, Map<String, String> details, long v) {
      return new Entry(
          jobId,
          executionNumber,
          sequence,
          Phase.REPORTING,
          v,
          document,
          status,
          details,
          checkpoints);
    }

    Entry withCheckpoints(Map<String, String> c) {
      return new Entry(
          jobId,
          executionNumber,
          sequence,
          phase,
          version,
          document,
          terminalStatus,
          terminalDetails,
          c);
    }

    String key() {
      return jobId + "#" + executionNumber;
    }
  }

  private static final String LOG_FILE = "journal.log";
  private static final int MAGIC = 0x474a4c31; // "GJL1"
  private static final byte ENTRY = 1;
  private static final byte CLOSED = 2;
  private static final byte NEXT = 3;
  private static final byte[] NEXT_REQUESTED = "requested".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NEXT_SETTLED = "settled".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER = 13; // magic, type, length, crc32
  private static final int MAX_RECORD = 1 << 20;

  /**
   * The zeros written after the open entries when the log is rewritten: room for about 70 jobs of
   * two commits each before the next rewrite. A torn write or a crash can leave zeros only at the
   * end of what was synced, so a zero header followed by anything but zeros is damage.
   */
  static final int REGION = 64 * 1024;

  private final Path dir;
  private final Path file;
  private final AtomicLong sequence = new AtomicLong();

  /** The open entries, in the order they were created. Guarded by this. */
  private final Map<String, Entry> live = new LinkedHashMap<>();

  /** Whether a start-next is requested and its outcome not recorded. Guarded by this. */
  private boolean nextRequested;

  private FileChannel channel;

  /** Where the next record goes: the end of the records, the start of the zeros. */
  private long end;

  /** The file's length. */
  private long capacity;

  Journal(Path dir) throws IOException {
    this.dir = dir;
    this.file = dir.resolve(LOG_FILE);
    Files.createDirectories(dir);
  }

  /** A new entry, not yet written. */
  Entry create(String jobId, long executionNumber, long version, String document) {
    return new Entry(
        jobId,
        executionNumber,
        sequence.incrementAndGet(),
        Phase.ACTIVE,
        version,
        document,
        null,
        Map.of(),
        Map.of());
  }

  /**
   * Appends the entry and syncs the log; throws when it cannot, so that the caller does not act
   * without it.
   */
  synchronized void write(Entry e) {
    try {
      load();
      append(frame(ENTRY, encode(e)), true);
      live.remove(e.key());
      live.put(e.key(), e);
    } catch (IOException ex) {
      throw new UncheckedIOException(
          "could not write the journal entry of " + e.key() + " in " + dir, ex);
    }
  }

  /**
   * Appends the entry (a terminal status decided) together with the intent to start the next
   * execution, and syncs both at once: one fdatasync, as for {@link #write} alone. The engine
   * publishes start-next only after this returns, so an execution the service starts for it is
   * never mistaken, after a crash, for one this gateway lost track of.
   */
  synchronized void requestNext(Entry e) {
    try {
      load();
      byte[] entry = frame(ENTRY, encode(e));
      byte[] next = frame(NEXT, NEXT_REQUESTED);
      append(ByteBuffer.allocate(entry.length + next.length).put(entry).put(next).array(), true);
      live.remove(e.key());
      live.put(e.key(), e);
      nextRequested = true;
    } catch (IOException ex) {
      throw new UncheckedIOException(
          "could not write the journal entry of " + e.key() + " in " + dir, ex);
    }
  }

  /**
   * Records that the start-next is settled: the service started nothing, or the execution it
   * started has its own entry now. Not synced: a lost record leaves the intent open, which matters
   * only for an IN_PROGRESS execution the journal does not know, and the next one this gateway
   * starts is written (synced) before it goes IN_PROGRESS.
   */
  synchronized void settleNext() {
    if (!nextRequested) {
      return;
    }
    try {
      load();
      append(frame(NEXT, NEXT_SETTLED), false);
      nextRequested = false;
    } catch (IOException ex) {
      LOG.warn("Could not record the settled start-next in {}: {}", dir, ex.getMessage());
    }
  }

  /** Whether a start-next was requested and its outcome is not recorded yet (read at start). */
  synchronized boolean nextRequested() {
    try {
      load();
    } catch (IOException ex) {
      throw new UncheckedIOException("could not read the journal " + file, ex);
    }
    return nextRequested;
  }

  /**
   * Forgets an execution that is over: a closing record, or an emptied log when nothing else is
   * open. Neither is synced on its own: the next sync carries it, and a lost one leaves a stale
   * entry, which is reconciled with the service.
   */
  synchronized void remove(String jobId, long executionNumber) {
    String key = jobId + "#" + executionNumber;
    try {
      load();
      if (live.remove(key) == null) {
        return;
      }
      append(frame(CLOSED, key.getBytes(StandardCharsets.UTF_8)), false);
    } catch (IOException ex) {
      LOG.warn("Could not close the journal entry of {}: {}", key, ex.getMessage());
    }
  }

  /**
   * Every open entry, oldest first. The first call reads the log: a damaged log (torn or corrupt
   * record) is copied aside (quarantined) with an ERROR line, the entries before the damage are
   * kept, and the service is the source of truth for the rest.
   */
  synchronized List<Entry> open() {
    try {
      load();
    } catch (IOException ex) {
      throw new UncheckedIOException("could not read the journal " + file, ex);
    }
    List<Entry> entries = new ArrayList<>(live.values());
    entries.sort(Comparator.comparingLong(Entry::sequence));
    return entries;
  }

  /** Whether any entry is open (after the log was read, which {@link #open()} does first). */
  synchronized boolean hasOpen() {
    return !live.isEmpty();
  }

  /** Closes the log file; a later call opens it again. */
  synchronized void close() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ex) {
        LOG.debug("Closing the journal {} failed", file, ex);
      }
      channel = null;
    }
  }

  private void load() throws IOException {
    if (channel != null) {
      return;
    }
    live.clear();
    nextRequested = false;
    if (Files.exists(file)) {
      byte[] bytes = Files.readAllBytes(file);
      Replay r = new Replay(live);
      String damage = r.run(bytes);
      nextRequested = r.nextRequested;
      if (damage != null) {
        quarantine(damage);
      }
    }
    long max = live.values().stream().mapToLong(Entry::sequence).max().orElse(0);
    sequence.accumulateAndGet(max, Math::max);
    // Start every run from a compact log: only the open entries, written atomically.
    compact();
  }

  /**
   * The open entries of the log in {@code dir}, by key, read without changing anything (for
   * operators' tools and tests); a damaged log yields the entries before the damage.
   */
  static Map<String, Entry> peek(Path dir) throws IOException {
    Path f = dir.resolve(LOG_FILE);
    Map<String, Entry> entries = new LinkedHashMap<>();
    if (Files.exists(f)) {
      new Replay(entries).run(Files.readAllBytes(f));
    }
    return entries;
  }

  /** What the records of a log say: the open entries, and whether a start-next is open. */
  private static final class Replay {
    final Map<String, Entry> live;
    boolean nextRequested;

    Replay(Map<String, Entry> live) {
      this.live = live;
    }

    /**
     * Applies the records of {@code bytes}; returns what is damaged, or null. The records end at
     * the end of the bytes or where only zeros follow.
     */
    String run(byte[] bytes) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        int at = b.position();
        if (zerosFrom(bytes, at)) {
          return null;
        }
        if (b.remaining() < HEADER) {
          return "a record header is cut short at byte " + at;
        }
        int magic = b.getInt();
        byte type = b.get();
        int length = b.getInt();
        int crc = b.getInt();
        if (magic != MAGIC || (type != ENTRY && type != CLOSED && type != NEXT)) {
          return "no record starts at byte " + at;
        }
        if (length < 0 || length > MAX_RECORD || length > b.remaining()) {
          return "the record at byte " + at + " is cut short";
        }
        byte[] payload = new byte[length];
        b.get(payload);
        if (crc32(type, payload) != crc) {
          return "the record at byte " + at + " fails its checksum";
        }
        try {
          if (type == ENTRY) {
            Entry e = decode(payload);
            live.remove(e.key());
            live.put(e.key(), e);
          } else if (type == NEXT) {
            nextRequested = Arrays.equals(payload, NEXT_REQUESTED);
          } else {
            live.remove(new String(payload, StandardCharsets.UTF_8));
          }
        } catch (IOException | RuntimeException ex) {
          return "the record at byte " + at + " is unreadable (" + ex.getMessage() + ")";
        }
      }
      return null;
    }
  }

  private static boolean zerosFrom(byte[] bytes, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private void quarantine(String damage) throws IOException {
    Path aside = dir.resolve(LOG_FILE + ".corrupt-" + Instant.now().toEpochMilli());
    Files.copy(file, aside, StandardCopyOption.REPLACE_EXISTING);
    LOG.error(
        "Journal {} is damaged ({}); kept the {} open entr{} before it, copied the file to {} and"
            + " will reconcile the rest with the service",
        file,
        damage,
        live.size(),
        live.size() == 1 ? "y" : "ies",
        aside.getFileName());
  }

  /**
   * Rewrites the log with the open entries only, followed by {@link #REGION} bytes of zeros
   * (temporary file, fsync, rename, fsync folder).
   */
  private void compact() throws IOException {
    close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Entry e : live.values()) {
      out.write(frame(ENTRY, encode(e)));
    }
    if (nextRequested) {
      out.write(frame(NEXT, NEXT_REQUESTED));
    }
    int records = out.size();
    out.write(new byte[REGION]);
    AtomicFiles.write(file, out.toByteArray());
    channel = FileChannel.open(file, StandardOpenOption.WRITE);
    end = records;
    capacity = out.size();
  }

  /** Writes a record over the zeros after the last one, making room first when it does not fit. */
  private void append(byte[] record, boolean sync) throws IOException {
    if (end + record.length > capacity) {
      compact();
    }
    ByteBuffer buf = ByteBuffer.wrap(record);
    long at = end;
    while (buf.hasRemaining()) {
      at += channel.write(buf, at);
    }
    if (sync) {
      // Over zeros already on disk: the file's length and blocks are unchanged, so this writes the
      // data only; the name is already durable.
      channel.force(false);
    }
    end = at;
    // a record larger than the zeros made the file longer
    capacity = Math.max(capacity, end);
  }

  private static byte[] frame(byte type, byte[] payload) {
    return ByteBuffer.allocate(HEADER + payload.length)
        .putInt(MAGIC)
        .put(type)
        .putInt(payload.length)
        .putInt(crc32(type, payload))
        .put(payload)
        .array();
  }

  private static int crc32(byte type, byte[] payload) {
    CRC32 c = new CRC32();
    c.update(type);
    c.update(payload);
    return (int) c.getValue();
  }

  static byte[] encode(Entry e) {
    Map<String, String> p = new TreeMap<>();
    p.put("jobId", e.jobId());
    p.put("executionNumber", Long.toString(e.executionNumber()));
    p.put("sequence", Long.toString(e.sequence()));
    p.put("phase", e.phase().name());
    p.put("version", Long.toString(e.version()));
    if (e.document() != null) {
      p.put("document", e.document());
    }
    if (e.terminalStatus() != null) {
      p.put("terminal.status", e.terminalStatus());
    }
    e.terminalDetails().forEach((k, v) -> p.put("terminal.detail." + k, v));
    e.checkpoints().forEach((k, v) -> p.put("checkpoint." + k, v));
    // Properties text, written here rather than by Properties.store (which costs a date comment,
    // a BufferedWriter and a second pass to drop the comment: a tenth of the engine thread's time
    // per job): one "key=value" line per entry in key order, escaped as Properties.load expects,
    // every character outside printable ASCII as a backslash-u escape, so that the Latin-1 bytes
    // below lose none (Properties.store(Writer) leaves them as they are: "€" became "?").
    StringBuilder b = new StringBuilder(256 + (e.document() == null ? 0 : e.document().length()));
    p.forEach(
        (k, v) -> {
          escape(b, k, true);
          b.append('=');
          escape(b, v, false);
          b.append('\n');
        });
    String body = b.toString();
    return ("#crc32=" + crc(body) + "\n" + body).getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Appends {@code s} escaped as {@link Properties#load(java.io.Reader)} reads it back. */
  private static void escape(StringBuilder b, String s, boolean key) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case ' ' -> b.append(key || i == 0 ? "\\ " : " ");
        case '\t' -> b.append("\\t");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\f' -> b.append("\\f");
        case '\\', '=', ':', '#', '!' -> b.append('\\').append(c);
        default -> {
          if (c < 0x20 || c > 0x7e) {
            b.append("\\u").append(HEX.charAt((c >> 12) & 0xF)).append(HEX.charAt((c >> 8) & 0xF));
            b.append(HEX.charAt((c >> 4) & 0xF)).append(HEX.charAt(c & 0xF));
          } else {
            b.append(c);
          }
        }
      }
    }
  }

  static Entry decode(byte[] bytes) throws IOException {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int nl = text.indexOf('\n');
    if (nl < 0 || !text.startsWith("#crc32=")) {
      throw new IOException("no checksum line");
    }
    String body = text.substring(nl + 1);
    if (!text.substring("#crc32=".length(), nl).equals(crc(body))) {
      throw new IOException("checksum mismatch (truncated or damaged)");
    }
    Properties props = new Properties();
    props.load(new StringReader(body));
    Map<String, String> details = new LinkedHashMap<>();
    Map<String, String> checkpoints = new LinkedHashMap<>();
    for (String k : new TreeMap<>(toMap(props)).keySet()) {
      if (k.startsWith("terminal.detail.")) {
        details.put(k.substring("terminal.detail.".length()), props.getProperty(k));
      } else if (k.startsWith("checkpoint.")) {
        checkpoints.put(k.substring("checkpoint.".length()), props.getProperty(k));
      }
    }
    return new Entry(
        required(props, "jobId"),
        Long.parseLong(required(props, "executionNumber")),
        Long.parseLong(required(props, "sequence")),
        Phase.valueOf(required(props, "phase")),
        Long.parseLong(required(props, "version")),
        props.getProperty("document"),
        props.getProperty("terminal.status"),
        details,
        checkpoints);
  }

  private static Map<String, String> toMap(Properties p) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String k : p.stringPropertyNames()) {
      m.put(k, p.getProperty(k));
    }
    return m;
  }

  private static String required(Properties p, String key) throws IOException {
    String v = p.getProperty(key);
    if (v == null) {
      throw new IOException("no " + key);
    }
    return v;
  }

  private static String crc(String body) {
    CRC32 c = new CRC32();
    c.update(body.getBytes(StandardCharsets.ISO_8859_1));
    return Long.toHexString(c.getValue());
  }
}
