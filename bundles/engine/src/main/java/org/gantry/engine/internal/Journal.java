package org.gantry.engine.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's memory of the executions of one thing that are not over yet: one file per execution
 * in {@code <data>/journal/<thing>/}, replaced atomically (temporary file, fsync, rename, fsync of
 * the folder) before every side effect and every status report, and deleted once the service has
 * acknowledged the terminal status. A file that is truncated or fails its checksum is moved aside
 * (quarantined) with a log line; the service is then the source of truth for that execution.
 *
 * <p>The format is {@link Properties} text under a first line {@code #crc32=<hex>} that covers the
 * rest of the file: readable by an operator, and a torn write is detected rather than misread.
 */
final class Journal {

  private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
  private static final String SUFFIX = ".exec";

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

  private final Path dir;
  private final AtomicLong sequence = new AtomicLong();

  Journal(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
  }

  Path dir() {
    return dir;
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
   * Writes the entry durably; throws when it cannot, so that the caller does not act without it.
   */
  void write(Entry e) {
    try {
      AtomicFiles.write(file(e.jobId(), e.executionNumber()), encode(e));
    } catch (IOException ex) {
      throw new UncheckedIOException(
          "could not write the journal entry of " + e.key() + " in " + dir, ex);
    }
  }

  /**
   * Forgets an execution that is over. The deletion need not be synced: a stale entry is
   * reconciled.
   */
  void remove(String jobId, long executionNumber) {
    try {
      Files.deleteIfExists(file(jobId, executionNumber));
    } catch (IOException ex) {
      LOG.warn(
          "Could not delete the journal entry of {}#{}: {}",
          jobId,
          executionNumber,
          ex.getMessage());
    }
  }

  /** Every entry on disk, oldest first; unreadable ones are quarantined and left out. */
  List<Entry> open() {
    List<Entry> entries = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path f : files) {
        try {
          entries.add(decode(Files.readAllBytes(f)));
        } catch (IOException | RuntimeException ex) {
          quarantine(f, ex);
        }
      }
    } catch (IOException ex) {
      throw new UncheckedIOException("could not read the journal folder " + dir, ex);
    }
    entries.sort(Comparator.comparingLong(Entry::sequence));
    long max = entries.stream().mapToLong(Entry::sequence).max().orElse(0);
    sequence.accumulateAndGet(max, Math::max);
    return entries;
  }

  private void quarantine(Path f, Exception why) {
    Path aside = f.resolveSibling(f.getFileName() + ".corrupt-" + Instant.now().toEpochMilli());
    try {
      Files.move(f, aside, StandardCopyOption.ATOMIC_MOVE);
      LOG.error(
          "Journal entry {} is unreadable ({}); moved it to {} and will reconcile with the service",
          f.getFileName(),
          why.getMessage(),
          aside.getFileName());
    } catch (IOException ex) {
      LOG.error("Journal entry {} is unreadable and could not be moved aside", f, ex);
    }
  }

  private Path file(String jobId, long executionNumber) {
    // jobId is [a-zA-Z0-9_-]{1,64} (checked by the protocol), so it is safe in a file name.
    return dir.resolve(jobId + "-" + executionNumber + SUFFIX);
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
    Properties props = new Properties();
    props.putAll(p);
    StringWriter w = new StringWriter();
    try {
      props.store(w, null);
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    // Properties.store writes a date comment first; drop it so the body is a function of the entry.
    String body =
        w.toString()
            .lines()
            .filter(l -> !l.startsWith("#"))
            .sorted()
            .map(l -> l + "\n")
            .collect(Collectors.joining());
    return ("#crc32=" + crc(body) + "\n" + body).getBytes(StandardCharsets.ISO_8859_1);
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
