package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * The A/B pair under {@code firmware.dir}: folders {@code slot-a} and {@code slot-b}, a description
 * of each ({@code slot-a.properties}: version, sha256) and the {@code active} pointer file naming
 * the active slot. Every file is replaced atomically (temp file, sync, rename, folder sync), so a
 * crash leaves either the old or the new state. No pointer means nothing was installed yet.
 */
final class Slots {

  static final String A = "slot-a";
  static final String B = "slot-b";
  static final String POINTER = "active";

  /** What a slot holds. */
  record Installed(String slot, String version, String sha256) {}

  private final Path dir;

  Slots(Path dir) {
    this.dir = dir;
  }

  Path dir() {
    return dir;
  }

  Path folder(String slot) {
    return dir.resolve(slot);
  }

  /** The staging folder extraction writes to before it becomes {@code slot}. */
  Path staging(String slot) {
    return dir.resolve(slot + ".staging");
  }

  static String other(String slot) {
    return A.equals(slot) ? B : A;
  }

  /** The active slot's name, empty before the first installation. */
  Optional<String> active() throws IOException {
    try {
      String s = Files.readString(dir.resolve(POINTER), StandardCharsets.UTF_8).trim();
      if (!s.equals(A) && !s.equals(B)) {
        throw new IOException(dir.resolve(POINTER) + " names neither slot-a nor slot-b: " + s);
      }
      return Optional.of(s);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** The slot a new image goes to: the one not active (slot-a before any installation). */
  String inactive() throws IOException {
    return active().map(Slots::other).orElse(A);
  }

  Optional<Installed> installed(String slot) throws IOException {
    Properties p = new Properties();
    try {
      p.load(new StringReader(Files.readString(dir.resolve(slot + ".properties"))));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    return Optional.of(new Installed(slot, p.getProperty("version"), p.getProperty("sha256")));
  }

  Optional<Installed> activeInstalled() throws IOException {
    Optional<String> a = active();
    return a.isPresent() ? installed(a.get()) : Optional.empty();
  }

  void describe(String slot, String version, String sha256) throws IOException {
    Properties p = new Properties();
    if (version != null) {
      p.setProperty("version", version);
    }
    p.setProperty("sha256", sha256);
    StringWriter w = new StringWriter();
    p.store(w, null);
    Folders.writeAtomically(dir.resolve(slot + ".properties"), w.toString());
  }

  void forget(String slot) throws IOException {
    Files.deleteIfExists(dir.resolve(slot + ".properties"));
    Folders.fsyncDir(dir);
  }

  /** Points {@code active} at {@code slot}, or removes the pointer for null. Atomic. */
  void activate(String slot) throws IOException {
    if (slot == null) {
      Files.deleteIfExists(dir.resolve(POINTER));
      Folders.fsyncDir(dir);
    } else {
      Folders.writeAtomically(dir.resolve(POINTER), slot + "\n");
    }
  }
}
