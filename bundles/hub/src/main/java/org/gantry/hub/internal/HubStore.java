package org.gantry.hub.internal;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gantry.protocol.Limits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's durable store: one JSON snapshot of every thing, job and execution, replaced atomically
 * on every change (written to a temporary file, forced to disk, renamed over the old one, then the
 * folder forced), so that after a crash the file holds either the state before a change or the
 * state after it, never a mix. A snapshot that cannot be read is moved aside as {@code
 * hub-state.json.corrupt-<time>} with an error in the log, and the hub starts empty.
 */
final class HubStore {
  static final String FILE = "hub-state.json";
  private static final int FORMAT = 1;
  private static final Logger LOG = LoggerFactory.getLogger(HubStore.class);

  private final Path dir;
  private final Path file;
  private final Path temp;
  private final Gson gson =
      new GsonBuilder().setStrictness(Strictness.STRICT).disableHtmlEscaping().create();

  /** The file format; field names are part of it. */
  static final class Snapshot {
    int format;
    long lastSeq;
    List<Thing> things;
    List<Job> jobs;
    List<Execution> executions;
  }

  HubStore(Path dir) throws IOException {
    this.dir = dir;
    this.file = dir.resolve(FILE);
    this.temp = dir.resolve(FILE + ".tmp");
    Files.createDirectories(dir);
  }

  Path file() {
    return file;
  }

  /**
   * Reads the snapshot; an absent one is an empty hub, an unreadable one is quarantined.
   *
   * @throws IOException when the file exists but cannot be read at all (permissions, I/O error)
   */
  HubState load() throws IOException {
    // A temporary file is a write that never reached its rename: the snapshot before it stands.
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      LOG.warn("Could not remove the unfinished write {}: {}", temp, e.toString());
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new HubState();
    }
    Snapshot s;
    try {
      String text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
      s = gson.fromJson(text, Snapshot.class);
    } catch (CharacterCodingException e) {
      return quarantine("it is not UTF-8");
    } catch (JsonParseException e) {
      return quarantine("it is not valid JSON: " + e.getMessage());
    }
    String why = problem(s);
    if (why != null) {
      return quarantine(why);
    }
    HubState state = new HubState();
    s.things.forEach(state::add);
    s.jobs.forEach(state::add);
    s.executions.forEach(state::add);
    state.restoreSeq(s.lastSeq);
    LOG.info(
        "Hub store loaded from {}: {} things, {} jobs, {} executions",
        file,
        s.things.size(),
        s.jobs.size(),
        s.executions.size());
    return state;
  }

  /** Replaces the snapshot with {@code state}; when this returns, the change is on disk. */
  void save(HubState state) throws IOException {
    Snapshot s = new Snapshot();
    s.format = FORMAT;
    s.lastSeq = state.lastSeq();
    s.things = state.things();
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
  }

  /** Makes the rename itself durable; not every platform can open a folder for this. */
  private void forceDirectory() {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      LOG.debug("Could not force the folder {}: {}", dir, e.toString());
    }
  }

  private HubState quarantine(String why) throws IOException {
    Path aside = dir.resolve(FILE + ".corrupt-" + Instant.now().toString().replace(':', '-'));
    Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
    LOG.error(
        "The hub store {} cannot be used ({}); moved it to {} and starting with an empty hub",
        file,
        why,
        aside);
    return new HubState();
  }

  /** Checks what the rest of the hub relies on; null when the snapshot is sound. */
  private static String problem(Snapshot s) {
    if (s == null) {
      return "it is empty";
    }
    if (s.format != FORMAT) {
      return "its format is " + s.format + ", this hub reads format " + FORMAT;
    }
    if (s.things == null || s.jobs == null || s.executions == null) {
      return "it lacks things, jobs or executions";
    }
    Set<String> things = new HashSet<>();
    for (Thing t : s.things) {
      if (t == null || !Limits.isValidThingName(t.thingName) || t.thingId == null) {
        return "a thing has no valid name or id";
      }
      if (t.attributes == null) {
        t.attributes = new java.util.LinkedHashMap<>();
      }
      things.add(t.thingName);
    }
    Set<String> jobs = new HashSet<>();
    for (Job j : s.jobs) {
      if (j == null || !Limits.isValidJobId(j.jobId) || j.document == null || j.targets == null) {
        return "a job has no valid id, document or targets";
      }
      if (j.status == null || j.targetSelection == null) {
        return "job " + j.jobId + " has no status or target selection";
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
        e.statusDetails = new java.util.LinkedHashMap<>();
      }
      for (Map.Entry<String, String> d : e.statusDetails.entrySet()) {
        if (d.getKey() == null || d.getValue() == null) {
          return "execution " + e.key() + " of " + e.thingName + " has a null status detail";
        }
      }
      if (!keys.add(e.thingName + "/" + e.key())) {
        return "execution " + e.key() + " of " + e.thingName + " appears twice";
      }
    }
    return null;
  }
}
