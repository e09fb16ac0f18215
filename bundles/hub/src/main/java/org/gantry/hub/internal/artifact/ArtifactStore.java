package org.gantry.hub.internal.artifact;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.gantry.hub.internal.artifact.ArtifactException.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's artifacts, one file per key under a root folder: key {@code firmware/gw/v2.tar.gz} is
 * the file {@code <root>/firmware/gw/v2.tar.gz}, its size and SHA-256 in the file {@code
 * <root>/firmware/gw/.v2.tar.gz.meta} beside it.
 *
 * <p>An upload is streamed to a temporary file in the target folder ({@code .<name>.<random>.tmp})
 * with its SHA-256 computed from the same buffer, forced to disk and renamed over the old artifact
 * in one atomic step; then its metadata is written the same way and the folder is forced. A reader
 * therefore sees the old artifact or the new one, never a mix. The metadata records the file's
 * identity (file key, modification time, size); when it does not match the file — a crash between
 * the two renames, or a file an operator copied in — the SHA-256 is computed again from the file
 * and the metadata rewritten. Temporary files left by a crash are deleted when the store opens.
 *
 * <p>Thread-safe: concurrent uploads of one key end with one of them, readers of an artifact that
 * is being replaced keep reading the file they opened.
 */
public final class ArtifactStore {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactStore.class);
  private static final int BUFFER = 64 * 1024;
  private static final String META_SUFFIX = ".meta";
  private static final String TEMP_SUFFIX = ".tmp";
  private static final int META_FORMAT = 1;
  private static final int OPEN_ATTEMPTS = 3;

  /** An artifact: its key, its size in bytes and its SHA-256 as 64 lower-case hex digits. */
  public record Artifact(String key, long size, String sha256) {}

  /** An artifact opened for reading: the channel reads exactly the bytes the artifact describes. */
  public record Opened(Artifact artifact, FileChannel channel) implements Closeable {
    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /** What identifies one version of a file; a rename keeps it, a new upload changes it. */
  private record Stamp(String fileKey, long modifiedNanos, long size) {
    static Stamp of(BasicFileAttributes a) {
      Object k = a.fileKey();
      return new Stamp(
          k == null ? "" : k.toString(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.size());
    }
  }

  private record Entry(Artifact artifact, Stamp stamp) {}

  private final Path root;
  private final Path realRoot;
  private final SecureRandom random = new SecureRandom();

  /**
   * Opens (and creates) the store under {@code root} and deletes temporary files left by a crash.
   *
   * @throws IOException when the folder cannot be created or read
   */
  public ArtifactStore(Path root) throws IOException {
    Files.createDirectories(root);
    this.root = root.toAbsolutePath().normalize();
    this.realRoot = this.root.toRealPath();
    sweepTemporaryFiles();
  }

  /** The folder the artifacts are kept in. */
  public Path root() {
    return root;
  }

  /**
   * Stores the bytes of {@code in} under {@code key}, replacing an artifact stored under it before.
   *
   * @param maxBytes the largest upload accepted
   * @param expectedSha256 the digest the sender announced, or {@code null}
   * @return the stored artifact
   * @throws ArtifactException {@link Reason#INVALID_KEY}, {@link Reason#KEY_CONFLICT}, {@link
   *     Reason#TOO_LARGE} or {@link Reason#CHECKSUM_MISMATCH}; nothing is stored then
   * @throws IOException when reading the input or writing the file fails; nothing is stored then
   */
  public Artifact put(String key, InputStream in, long maxBytes, byte[] expectedSha256)
      throws IOException, ArtifactException {
    Path target = resolve(key);
    Path parent = target.getParent();
    createFolders(key, parent);
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new ArtifactException(
          Reason.KEY_CONFLICT,
          "The artifact key "
              + ArtifactKeys.clip(key)
              + " names a folder of other artifacts; it cannot also be an artifact.");
    }
    Path temp = tempBeside(target);
    MessageDigest digest = sha256();
    long size = 0;
    boolean done = false;
    try {
      try (FileChannel out =
          FileChannel.open(
              temp,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE,
              LinkOption.NOFOLLOW_LINKS)) {
        byte[] buf = new byte[BUFFER];
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          size += n;
          if (size > maxBytes) {
            throw new ArtifactException(
                Reason.TOO_LARGE,
                "The artifact "
                    + ArtifactKeys.clip(key)
                    + " is longer than "
                    + maxBytes
                    + " bytes.");
          }
          digest.update(buf, 0, n);
          ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
          while (bb.hasRemaining()) {
            out.write(bb);
          }
        }
        out.force(true);
      }
      byte[] sha = digest.digest();
      if (expectedSha256 != null && !MessageDigest.isEqual(sha, expectedSha256)) {
        throw new ArtifactException(
            Reason.CHECKSUM_MISMATCH,
            "The artifact "
                + ArtifactKeys.clip(key)
                + " has SHA-256 "
                + HexFormat.of().formatHex(sha)
                + ", not the "
                + HexFormat.of().formatHex(expectedSha256)
                + " its sender announced.");
      }
      Stamp stamp = Stamp.of(Files.readAttributes(temp, BasicFileAttributes.class));
      move(temp, target);
      done = true;
      Artifact artifact = new Artifact(key, size, HexFormat.of().formatHex(sha));
      writeMeta(target, new Entry(artifact, stamp));
      forceFolder(parent);
      LOG.info("Artifact {} stored: {} bytes, SHA-256 {}", key, size, artifact.sha256());
      return artifact;
    } finally {
      if (!done) {
        Files.deleteIfExists(temp);
      }
    }
  }

  /**
   * Looks an artifact up.
   *
   * @return the artifact, or empty when none is stored under the key
   * @throws ArtifactException {@link Reason#INVALID_KEY}
   * @throws IOException when the file or its metadata cannot be read
   */
  public Optional<Artifact> find(String key) throws IOException, ArtifactException {
    return entry(key).map(Entry::artifact);
  }

  /**
   * Opens an artifact for reading; the caller closes it.
   *
   * @throws ArtifactException {@link Reason#INVALID_KEY} or {@link Reason#NOT_FOUND}
   * @throws IOException when it cannot be read, or keeps being replaced while it is opened
   */
  public Opened open(String key) throws IOException, ArtifactException {
    Path file = resolve(key);
    for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
      Optional<Entry> found = entry(key);
      if (found.isEmpty()) {
        throw notFound(key);
      }
      Entry e = found.get();
      FileChannel ch;
      try {
        ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException gone) {
        continue;
      }
      // The file read is the one the metadata describes only if the path still shows that file
      // after the open: an upload in between gives it another identity.
      boolean same;
      try {
        same =
            Stamp.of(
                        Files.readAttributes(
                            file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS))
                    .equals(e.stamp())
                && ch.size() == e.artifact().size();
      } catch (NoSuchFileException gone) {
        same = false;
      }
      if (same) {
        return new Opened(e.artifact(), ch);
      }
      ch.close();
    }
    throw new IOException(
        "The artifact " + ArtifactKeys.clip(key) + " was replaced while it was being opened.");
  }

  private Optional<Entry> entry(String key) throws IOException, ArtifactException {
    Path file = resolve(key);
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    if (attrs.isDirectory()) {
      return Optional.empty();
    }
    if (!attrs.isRegularFile()) {
      LOG.warn("Artifact {} ignored: {} is not a regular file", key, file);
      return Optional.empty();
    }
    if (!file.toRealPath().startsWith(realRoot)) {
      LOG.warn("Artifact {} ignored: {} leads out of the store through a link", key, file);
      return Optional.empty();
    }
    Stamp stamp = Stamp.of(attrs);
    Entry meta = readMeta(key, file);
    if (meta != null && meta.stamp().equals(stamp)) {
      return Optional.of(meta);
    }
    return Optional.of(rehash(key, file));
  }

  /** Computes the SHA-256 of a file whose metadata is missing or stale, and records it. */
  private Entry rehash(String key, Path file) throws IOException {
    Stamp before;
    MessageDigest digest = sha256();
    long size = 0;
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      before =
          Stamp.of(
              Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
      ByteBuffer buf = ByteBuffer.allocate(BUFFER);
      while (ch.read(buf) >= 0) {
        buf.flip();
        size += buf.remaining();
        digest.update(buf);
        buf.clear();
      }
    }
    Entry e = new Entry(new Artifact(key, size, HexFormat.of().formatHex(digest.digest())), before);
    if (size == before.size()) {
      writeMeta(file, e);
      forceFolder(file.getParent());
    }
    LOG.info(
        "Artifact {}: metadata missing or stale, SHA-256 computed from the file: {} bytes, {}",
        key,
        size,
        e.artifact().sha256());
    return e;
  }

  private Entry readMeta(String key, Path file) throws IOException {
    Path meta = metaOf(file);
    String text;
    try {
      text = Files.readString(meta, StandardCharsets.UTF_8);
    } catch (NoSuchFileException | MalformedInputException e) {
      return null;
    }
    String format = null;
    String sha = null;
    String fileKey = null;
    Long size = null;
    Long modified = null;
    try {
      for (String line : text.split("\n", -1)) {
        int eq = line.indexOf('=');
        if (eq < 0) {
          continue;
        }
        String k = line.substring(0, eq);
        String v = line.substring(eq + 1);
        switch (k) {
          case "format" -> format = v;
          case "size" -> size = Long.parseLong(v);
          case "sha256" -> sha = v;
          case "fileKey" -> fileKey = v;
          case "modifiedNanos" -> modified = Long.parseLong(v);
          default -> {}
        }
      }
    } catch (NumberFormatException e) {
      return null;
    }
    if (!String.valueOf(META_FORMAT).equals(format)
        || size == null
        || modified == null
        || fileKey == null
        || sha == null
        || !sha.matches("[0-9a-f]{64}")) {
      return null;
    }
    return new Entry(new Artifact(key, size, sha), new Stamp(fileKey, modified, size));
  }

  private void writeMeta(Path file, Entry e) throws IOException {
    Path meta = metaOf(file);
    Path temp = tempBeside(meta);
    String text =
        "format="
            + META_FORMAT
            + "\nsize="
            + e.artifact().size()
            + "\nsha256="
            + e.artifact().sha256()
            + "\nfileKey="
            + e.stamp().fileKey()
            + "\nmodifiedNanos="
            + e.stamp().modifiedNanos()
            + "\n";
    boolean done = false;
    try {
      try (FileChannel out =
          FileChannel.open(
              temp,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE,
              LinkOption.NOFOLLOW_LINKS)) {
        ByteBuffer bb = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (bb.hasRemaining()) {
          out.write(bb);
        }
        out.force(true);
      }
      move(temp, meta);
      done = true;
    } finally {
      if (!done) {
        Files.deleteIfExists(temp);
      }
    }
  }

  /** Resolves a checked key below the root; the lexical check backs up the key rules. */
  private Path resolve(String key) throws ArtifactException {
    ArtifactKeys.check(key);
    Path p = root.resolve(key).normalize();
    if (!p.startsWith(root) || p.equals(root)) {
      throw new ArtifactException(
          Reason.INVALID_KEY,
          "The artifact key " + ArtifactKeys.clip(key) + " leads out of the artifact store.");
    }
    return p;
  }

  private void createFolders(String key, Path parent) throws IOException, ArtifactException {
    Path firstMissing = null;
    for (Path p = parent;
        !p.equals(root) && !Files.exists(p, LinkOption.NOFOLLOW_LINKS);
        p = p.getParent()) {
      firstMissing = p;
    }
    try {
      Files.createDirectories(parent);
    } catch (FileAlreadyExistsException e) {
      throw conflict(key);
    }
    if (!parent.toRealPath().startsWith(realRoot)) {
      throw new ArtifactException(
          Reason.INVALID_KEY,
          "The artifact key " + ArtifactKeys.clip(key) + " leads out of the store through a link.");
    }
    if (!Files.isDirectory(parent)) {
      throw conflict(key);
    }
    if (firstMissing != null) {
      // A new folder is durable only once the folder holding it is forced.
      for (Path p = parent; ; p = p.getParent()) {
        forceFolder(p);
        if (p.equals(firstMissing.getParent())) {
          break;
        }
      }
    }
  }

  private static ArtifactException conflict(String key) {
    return new ArtifactException(
        Reason.KEY_CONFLICT,
        "The artifact key "
            + ArtifactKeys.clip(key)
            + " needs a folder where another artifact is stored.");
  }

  private static ArtifactException notFound(String key) {
    return new ArtifactException(
        Reason.NOT_FOUND, "No artifact is stored under the key " + ArtifactKeys.clip(key) + ".");
  }

  private Path tempBeside(Path file) {
    byte[] nonce = new byte[8];
    random.nextBytes(nonce);
    return file.resolveSibling(
        "." + file.getFileName() + "." + HexFormat.of().formatHex(nonce) + TEMP_SUFFIX);
  }

  private static Path metaOf(Path file) {
    return file.resolveSibling("." + file.getFileName() + META_SUFFIX);
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          "The file system of " + to + " cannot rename atomically; artifacts need it", e);
    }
  }

  private static void forceFolder(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some file systems cannot open a folder for reading; the renames are still atomic there.
      LOG.debug("Could not force the folder {}: {}", dir, e.toString());
    }
  }

  private void sweepTemporaryFiles() throws IOException {
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            String name = file.getFileName().toString();
            if (attrs.isRegularFile() && name.startsWith(".") && name.endsWith(TEMP_SUFFIX)) {
              Files.deleteIfExists(file);
              LOG.info("Artifact store: deleted {}, left by an upload that did not finish", file);
            }
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every Java platform has SHA-256", e);
    }
  }
}
