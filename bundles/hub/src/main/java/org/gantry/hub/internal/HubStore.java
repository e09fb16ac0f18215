package org.gantry.hub.internal;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;
import org.gantry.protocol.Limits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's durable store: a snapshot ({@code hub-state.json}) plus an append-only log of changes
 * ({@code hub-log.<generation>}). Each commit appends one record — length, CRC-32C, and the JSON of
 * every change of the batch — and forces it to disk, so a batch is on disk whole or not at all.
 * When the log grows past {@link #COMPACT_BYTES} the state is written as a new snapshot (temporary
 * file, force, atomic rename, folder forced) of the next generation and a fresh log starts.
 *
 * <p>At start the snapshot is read and its generation's log replayed. A torn record at the end of
 * the log (a crash during a write) is cut off with a warning; a record whose checksum or content is
 * wrong ends the replay there, and the log is copied aside for inspection. A snapshot that cannot
 * be read is moved aside as {@code hub-state.json.corrupt-<time>} and the hub starts empty.
 */
final class HubStore implements Closeable {
  static final String FILE = "hub-state.json";
  static final String LOG = "hub-log.";
  static final long COMPACT_BYTES = 32L << 20;
  private static final int FORMAT = 2;
  private static final int MAX_RECORD = 256 << 20;
  private static final Logger LOG_ = LoggerFactory.getLogger(HubStore.class);

  private final Path dir;
  private final Path file;
  private final Path temp;
  private final long compactBytes;
  private final Gson gson =
      new GsonBuilder().setStrictness(Strictness.STRICT).disableHtmlEscaping().create();
  private long generation;
  private FileChannel log;
  private long logSize;

  /** The snapshot format; field names are part of it. */
  static final class Snapshot {
    int format;
    long generation;
    long lastSeq;
    List<Thing> things;
    List<ThingGroup> groups;
    List<List<String>> memberships;

    /** (thing, principal) pairs; absent in stores written before principals existed. */
    List<List<String>> principals;

    List<Job> jobs;
    List<Execution> executions;
  }

  HubStore(Path dir) throws IOException {
    this(dir, COMPACT_BYTES);
  }

  HubStore(Path dir, long compactBytes) throws IOException {
    this.dir = dir;
    this.file = dir.resolve(FILE);
    this.temp = dir.resolve(FILE + ".tmp");
    this.compactBytes = compactBytes;
    Files.createDirectories(dir);
  }

  Path file() {
    return file;
  }

  Path logFile() {
    return dir.resolve(LOG + generation);
  }

  long logSize() {
    return logSize;
  }

  /**
   * Reads the snapshot and replays its log; an absent store is an empty hub, an unreadable snapshot
   * is quarantined. Afterwards the store is open for {@link #append}.
   *
   * @throws IOException when the files exist but cannot be read or written at all
   */
  HubState load() throws IOException {
    closeLog();
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      LOG_.warn("Could not remove the unfinished write {}: {}", temp, e.toString());
    }
    Image image = readSnapshot();
    generation = image.generation;
    Path logFile = logFile();
    int batches = replay(logFile, image);
    deleteOtherLogs(image.quarantined);
    HubState state = image.build();
    log =
        FileChannel.open(
            logFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    logSize = log.size();
    log.position(logSize);
    forceDirectory();
    LOG_.info(
        "Hub store loaded from {} (generation {}, {} logged batches): {} things, {} groups, {} jobs,"
            + " {} executions",
        dir,
        generation,
        batches,
        state.things().size(),
        state.groups().size(),
        state.jobs().size(),
        state.executions().size());
    return state;
  }

  /** Appends one batch of changes and forces it to disk; when this returns, the batch is stored. */
  void append(List<HubState.Op> ops) throws IOException {
    if (ops.isEmpty()) {
      return;
    }
    if (log == null) {
      throw new IOException("The hub store is not open");
    }
    JsonArray batch = new JsonArray(ops.size());
    for (HubState.Op op : ops) {
      JsonObject o = new JsonObject();
      o.addProperty("k", op.kind());
      o.add("v", gson.toJsonTree(op.value()));
      batch.add(o);
    }
    byte[] payload = gson.toJson(batch).getBytes(StandardCharsets.UTF_8);
    CRC32C crc = new CRC32C();
    crc.update(payload);
    ByteBuffer buf = ByteBuffer.allocate(8 + payload.length);
    buf.putInt(payload.length).putInt((int) crc.getValue()).put(payload).flip();
    while (buf.hasRemaining()) {
      log.write(buf);
    }
    log.force(false);
    logSize += 8 + payload.length;
  }

  /** Whether the log is long enough to be folded into a new snapshot. */
  boolean shouldCompact() {
    return logSize > compactBytes;
  }

  /**
   * Writes {@code state} (which must be everything appended so far) as the snapshot of the next
   * generation, starts its empty log and deletes the old one.
   */
  void compact(HubState state) throws IOException {
    Snapshot s = new Snapshot();
    s.format = FORMAT;
    s.generation = generation + 1;
    s.lastSeq = state.lastSeq();
    s.things = state.things();
    s.groups = state.groups();
    s.memberships = state.memberships();
    s.principals = state.principals();
    s.jobs = state.jobs();
    s.executions = state.executions();
    byte[] bytes = gson.toJson(s).getBytes(StandardCharsets.UTF_8);
    try (FileChannel ch =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    try {
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("The store folder " + dir + " does not support atomic renames", e);
    }
    forceDirectory();
    // From here the new snapshot stands; a crash now leaves an old log that the next start deletes.
    Path old = logFile();
    closeLog();
    generation = s.generation;
    log =
        FileChannel.open(
            logFile(),
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE);
    logSize = 0;
    Files.deleteIfExists(old);
    forceDirectory();
    LOG_.info(
        "Hub store compacted into {} (generation {}, {} bytes)", file, generation, bytes.length);
  }

  /** Writes the whole state as a snapshot (tests and tools; the hub appends). */
  void save(HubState state) throws IOException {
    compact(state);
  }

  @Override
  public void close() {
    closeLog();
  }

  private void closeLog() {
    if (log != null) {
      try {
        log.close();
      } catch (IOException e) {
        LOG_.debug("Closing the hub log: {}", e.toString());
      }
      log = null;
    }
  }

  // ------------------------------------------------------------------ reading

  /** The state as plain collections while the snapshot and the log are read. */
  private static final class Image {
    long generation;
    long lastSeq;
    boolean quarantined;
    final Map<String, Thing> things = new LinkedHashMap<>();
    final Map<String, ThingGroup> groups = new LinkedHashMap<>();
    final Set<List<String>> memberships = new LinkedHashSet<>();
    final Set<List<String>> principals = new LinkedHashSet<>();
    final Map<String, Job> jobs = new LinkedHashMap<>();
    final Map<String, Execution> executions = new LinkedHashMap<>();

    HubState build() {
      HubState s = new HubState();
      s.recording(false);
      things.values().forEach(s::add);
      addGroups(s);
      memberships.forEach(m -> s.addMember(m.get(0), m.get(1)));
      principals.forEach(a -> s.attach(a.get(0), a.get(1)));
      s.drainPrincipalsChanged();
      jobs.values().forEach(s::add);
      List<Execution> all = new ArrayList<>(executions.values());
      // A thing's latest execution of a job is added last, as when they were created.
      all.sort(Comparator.comparingLong(e -> e.executionNumber));
      all.forEach(s::add);
      s.restoreSeq(lastSeq);
      s.recording(true);
      return s;
    }

    private void addGroups(HubState s) {
      Set<String> added = new HashSet<>();
      boolean progress = true;
      while (progress) {
        progress = false;
        for (ThingGroup g : groups.values()) {
          if (!added.contains(g.groupName)
              && (g.parentGroupName == null || added.contains(g.parentGroupName))) {
            s.add(g);
            added.add(g.groupName);
            progress = true;
          }
        }
      }
    }
  }

  private Image readSnapshot() throws IOException {
    Image image = new Image();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return image;
    }
    Snapshot s;
    try {
      s = gson.fromJson(utf8(bytes), Snapshot.class);
    } catch (CharacterCodingException e) {
      return quarantine("it is not UTF-8");
    } catch (JsonParseException e) {
      return quarantine("it is not valid JSON: " + e.getMessage());
    }
    String why = problem(s);
    if (why != null) {
      return quarantine(why);
    }
    image.generation = s.generation;
    image.lastSeq = s.lastSeq;
    s.things.forEach(t -> image.things.put(t.thingName, t));
    s.groups.forEach(g -> image.groups.put(g.groupName, g));
    image.memberships.addAll(s.memberships);
    image.principals.addAll(s.principals);
    s.jobs.forEach(j -> image.jobs.put(j.jobId, j));
    s.executions.forEach(e -> image.executions.put(e.id(), e));
    return image;
  }

  /** Replays the log into the image; returns the number of batches applied. */
  private int replay(Path logFile, Image image) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(logFile);
    } catch (NoSuchFileException e) {
      return 0;
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    int batches = 0;
    String why = null;
    while (buf.remaining() > 0) {
      int start = buf.position();
      if (buf.remaining() < 8) {
        why = "a torn record header";
      } else {
        int length = buf.getInt();
        int crc = buf.getInt();
        if (length < 0 || length > MAX_RECORD) {
          why = "a record length of " + length;
        } else if (buf.remaining() < length) {
          why = "a torn record";
        } else {
          byte[] payload = new byte[length];
          buf.get(payload);
          CRC32C c = new CRC32C();
          c.update(payload);
          if ((int) c.getValue() != crc) {
            why = "a record whose checksum does not match";
          } else {
            try {
              apply(JsonParser.parseString(utf8(payload)).getAsJsonArray(), image);
              batches++;
              continue;
            } catch (RuntimeException | CharacterCodingException e) {
              why = "a record that cannot be applied (" + e + ")";
            }
          }
        }
      }
      cutAt(logFile, start, bytes.length, why);
      break;
    }
    return batches;
  }

  private void cutAt(Path logFile, int at, int size, String why) throws IOException {
    boolean tornTail = why.startsWith("a torn");
    if (tornTail) {
      LOG_.warn(
          "The hub log {} ends with {} at byte {} of {} (a crash during a write); that unfinished"
              + " batch was never acknowledged and is dropped",
          logFile,
          why,
          at,
          size);
    } else {
      Path aside =
          dir.resolve(
              logFile.getFileName() + ".corrupt-" + Instant.now().toString().replace(':', '-'));
      Files.copy(logFile, aside);
      LOG_.error(
          "The hub log {} has {} at byte {} of {}; replayed up to there, kept a copy as {}",
          logFile,
          why,
          at,
          size,
          aside);
    }
    try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.WRITE)) {
      ch.truncate(at);
      ch.force(true);
    }
  }

  private void apply(JsonArray batch, Image image) {
    for (JsonElement el : batch) {
      JsonObject o = el.getAsJsonObject();
      String kind = o.get("k").getAsString();
      JsonElement v = o.get("v");
      switch (kind) {
        case "thing" -> {
          Thing t = gson.fromJson(v, Thing.class);
          check(Limits.isValidThingName(t.thingName), "a thing without a valid name");
          if (t.attributes == null) {
            t.attributes = new LinkedHashMap<>();
          }
          image.things.put(t.thingName, t);
        }
        case "group" -> {
          ThingGroup g = gson.fromJson(v, ThingGroup.class);
          check(g.groupName != null, "a group without a name");
          image.groups.put(g.groupName, g);
        }
        case "member" -> {
          JsonArray a = v.getAsJsonArray();
          List<String> m = List.of(a.get(0).getAsString(), a.get(1).getAsString());
          if (a.get(2).getAsBoolean()) {
            image.memberships.add(m);
          } else {
            image.memberships.remove(m);
          }
        }
        case "principal" -> {
          JsonArray a = v.getAsJsonArray();
          List<String> pair = List.of(a.get(0).getAsString(), a.get(1).getAsString());
          check(
              Limits.isValidThingName(pair.get(0)) && Principals.isValid(pair.get(1)),
              "an attachment with an invalid thing or principal");
          if (a.get(2).getAsBoolean()) {
            image.principals.add(pair);
          } else {
            image.principals.remove(pair);
          }
        }
        case "job" -> {
          Job j = gson.fromJson(v, Job.class);
          check(jobProblem(j) == null, "a job that is not sound");
          image.jobs.put(j.jobId, j);
        }
        case "progress" -> {
          Job.Progress p = gson.fromJson(v, Job.Progress.class);
          Job j = image.jobs.get(p.jobId());
          check(j != null, "the progress of an unknown job");
          p.applyTo(j);
        }
        case "execution" -> {
          Execution e = gson.fromJson(v, Execution.class);
          check(
              e.status != null && image.jobs.containsKey(e.jobId) && e.executionNumber >= 1,
              "an execution of an unknown job or without a status");
          if (e.statusDetails == null) {
            e.statusDetails = new LinkedHashMap<>();
          }
          Execution old = image.executions.get(e.id());
          if (old == null) {
            image.executions.put(e.id(), e);
          } else {
            old.copyFrom(e);
          }
          image.lastSeq = Math.max(image.lastSeq, e.queueSeq);
        }
        case "deleteJob" -> {
          String jobId = v.getAsString();
          image.jobs.remove(jobId);
          image.executions.values().removeIf(e -> e.jobId.equals(jobId));
        }
        case "deleteExecution" -> image.executions.remove(v.getAsString());
        case "deleteThing" -> {
          String name = v.getAsString();
          image.things.remove(name);
          image.memberships.removeIf(m -> m.get(1).equals(name));
          image.principals.removeIf(a -> a.get(0).equals(name));
        }
        default -> throw new IllegalStateException("unknown change kind " + kind);
      }
    }
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException(what);
    }
  }

  private void deleteOtherLogs(boolean quarantined) {
    String keep = LOG + generation;
    String stamp = Instant.now().toString().replace(':', '-');
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, LOG + "*")) {
      for (Path p : s) {
        String name = p.getFileName().toString();
        if (name.equals(keep) || name.contains(".corrupt-")) {
          continue;
        }
        if (quarantined) {
          // The log of the snapshot that was moved aside: kept with it for inspection.
          Path aside = dir.resolve(name + ".corrupt-" + stamp);
          Files.move(p, aside);
          LOG_.error("Moved {} aside as {} with its snapshot", p, aside);
        } else {
          Files.deleteIfExists(p);
          LOG_.info("Deleted {}: a log that an earlier compaction had folded in", p);
        }
      }
    } catch (IOException e) {
      LOG_.warn("Could not clean up old hub logs in {}: {}", dir, e.toString());
    }
  }

  private static String utf8(byte[] bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes))
        .toString();
  }

  /** Makes a rename or a new file durable; not every platform can open a folder for this. */
  private void forceDirectory() {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      LOG_.debug("Could not force the folder {}: {}", dir, e.toString());
    }
  }

  private Image quarantine(String why) throws IOException {
    Path aside = dir.resolve(FILE + ".corrupt-" + Instant.now().toString().replace(':', '-'));
    Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
    LOG_.error(
        "The hub store {} cannot be used ({}); moved it to {} and starting with an empty hub",
        file,
        why,
        aside);
    // Its log belongs to it: replaying that onto an empty hub would invent a half state.
    Image image = new Image();
    image.generation = -1;
    image.quarantined = true;
    return image;
  }

  /** Checks what the rest of the hub relies on; null when the snapshot is sound. */
  private static String problem(Snapshot s) {
    if (s == null) {
      return "it is empty";
    }
    if (s.format != 1 && s.format != FORMAT) {
      return "its format is " + s.format + ", this hub reads formats 1 and " + FORMAT;
    }
    if (s.things == null || s.jobs == null || s.executions == null) {
      return "it lacks things, jobs or executions";
    }
    if (s.groups == null) {
      s.groups = new ArrayList<>();
    }
    if (s.memberships == null) {
      s.memberships = new ArrayList<>();
    }
    Set<String> things = new HashSet<>();
    for (Thing t : s.things) {
      if (t == null || !Limits.isValidThingName(t.thingName) || t.thingId == null) {
        return "a thing has no valid name or id";
      }
      if (t.attributes == null) {
        t.attributes = new LinkedHashMap<>();
      }
      things.add(t.thingName);
    }
    for (ThingGroup g : s.groups) {
      if (g == null || g.groupName == null || g.groupId == null) {
        return "a thing group has no name or id";
      }
    }
    if (s.principals == null) {
      s.principals = new ArrayList<>();
    }
    for (List<String> a : s.principals) {
      if (a == null
          || a.size() != 2
          || !Limits.isValidThingName(a.get(0))
          || !Principals.isValid(a.get(1))) {
        return "a principal attachment is not a valid (thing, principal) pair";
      }
    }
    for (List<String> m : s.memberships) {
      if (m == null || m.size() != 2 || m.get(0) == null || m.get(1) == null) {
        return "a group membership is not a (group, thing) pair";
      }
    }
    Set<String> jobs = new HashSet<>();
    for (Job j : s.jobs) {
      String why = jobProblem(j);
      if (why != null) {
        return why;
      }
      jobs.add(j.jobId);
    }
    Set<String> keys = new HashSet<>();
    for (Execution e : s.executions) {
      if (e == null || !jobs.contains(e.jobId) || !things.contains(e.thingName)) {
        return "an execution names an unknown job or thing";
      }
      if (e.status == null || e.executionNumber < 1 || e.versionNumber < 1) {
        return "execution " + e.key() + " of " + e.thingName + " has no status or bad numbers";
      }
      if (e.statusDetails == null) {
        e.statusDetails = new LinkedHashMap<>();
      }
      for (Map.Entry<String, String> d : e.statusDetails.entrySet()) {
        if (d.getKey() == null || d.getValue() == null) {
          return "execution " + e.key() + " of " + e.thingName + " has a null status detail";
        }
      }
      if (s.format == 1 && e.releasedAt == null) {
        // Format 1 had no rollouts: every execution was delivered when it was queued.
        e.releasedAt = e.queuedAt;
      }
      if (!keys.add(e.id())) {
        return "execution " + e.key() + " of " + e.thingName + " appears twice";
      }
    }
    return null;
  }

  private static String jobProblem(Job j) {
    if (j == null || !Limits.isValidJobId(j.jobId) || j.document == null || j.targets == null) {
      return "a job has no valid id, document or targets";
    }
    if (j.status == null || j.targetSelection == null) {
      return "job " + j.jobId + " has no status or target selection";
    }
    if (j.groupTargets == null) {
      j.groupTargets = new ArrayList<>();
    }
    if (j.abortCriteria == null) {
      j.abortCriteria = new ArrayList<>();
    }
    if (j.retryCriteria == null) {
      j.retryCriteria = new ArrayList<>();
    }
    return null;
  }
}
