package org.gantry.op.firmware.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.gantry.op.firmware.internal.Request.Format;
import org.gantry.op.firmware.internal.Settings.Limits;

/**
 * Unpacks a verified tar, tar.gz or zip archive into a new folder, with Apache Commons Compress and
 * the format the document declares (never detected from the content), in two passes.
 *
 * <p>The first pass writes nothing, not even the folder: it reads every entry header (a zip's
 * central directory; a tar's headers, inflating a tar.gz once to reach them) and refuses the whole
 * archive for a name that could leave the folder (absolute, a backslash or NUL, a {@code ..}
 * element, or a resolved path ({@link Path#normalize()}) not under the folder by {@link
 * Path#startsWith}, so a sibling such as {@code /a/bc} is not under {@code /a/b}), a symbolic or
 * hard link, a device or FIFO, an entry named twice or a file where another entry needs a folder,
 * more entries than allowed, or declared sizes above the byte or ratio caps.
 *
 * <p>Only then is the folder created and the archive read again, and every entry checked again as
 * it comes (the same checks, and it must be the entry the first pass saw at that position): the
 * file is ours and verified, but the writing pass does not rely on what another pass concluded.
 * Bytes and the expansion ratio (bytes written over the archive's size) are counted again on what
 * is actually written, since a zip's declared sizes can lie; a bomb stops at the cap with a
 * fixed-size buffer. Files are created with {@code CREATE_NEW} through {@link Disk} and synced; the
 * folder is the caller's staging folder and is deleted whole when anything fails after it exists.
 */
final class Extractor {

  /** What an extraction produced. */
  record Extracted(long bytes, int entries) {}

  /** What an admitted entry is: links, devices and FIFOs are never admitted. */
  private enum Kind {
    FILE,
    DIRECTORY
  }

  /** One entry as the first pass saw it; the writing pass must meet the same, in order. */
  private record Planned(String name, Kind kind, long size) {}

  private static final int BUFFER = 256 * 1024;
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);
  private static final Set<PosixFilePermission> EXECUTABLE =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> REGULAR =
      PosixFilePermissions.fromString("rw-r--r--");

  private final Limits limits;
  private final Disk disk;
  private final CrashPoints crash;

  Extractor(Limits limits) {
    this(limits, Disk.DEFAULT, CrashPoints.none());
  }

  Extractor(Limits limits, Disk disk) {
    this(limits, disk, CrashPoints.none());
  }

  Extractor(Limits limits, Disk disk, CrashPoints crash) {
    this.limits = limits;
    this.disk = disk;
    this.crash = crash;
  }

  /**
   * The running totals of one pass. The checking pass ({@code plan == null}) builds the plan and
   * the sets of files and folders; the writing pass compares with the plan and writes.
   */
  private final class Run {
    final Path root;
    final long archiveSize;
    final Step ctx;
    final byte[] buf;
    final List<Planned> plan;
    final List<Planned> seen = new ArrayList<>();
    final Set<Path> files = new HashSet<>();
    final Set<Path> dirs = new LinkedHashSet<>();
    final String step;
    long bytes;
    long declared;
    int entries;
    int filesWritten;
    long lastProgress = System.nanoTime();

    Run(Path root, long archiveSize, Step ctx, byte[] buf, List<Planned> plan) {
      this.root = root;
      this.archiveSize = Math.max(1, archiveSize);
      this.ctx = ctx;
      this.buf = buf;
      this.plan = plan;
      this.step = plan == null ? "checking-archive" : "extracting";
    }

    boolean writing() {
      return plan != null;
    }
  }

  /**
   * Extracts {@code archive} into {@code target}, which must not exist. A refusal in the first pass
   * leaves the file system as it was (not even {@code target} or its parent is created); a failure
   * after that deletes {@code target} with what was written into it.
   */
  Extracted extract(Path archive, Format format, Path target, Step ctx) throws OperationFailure {
    if (format == Format.RAW) {
      throw new IllegalArgumentException("a raw image is not an archive");
    }
    Path root = target.toAbsolutePath().normalize();
    byte[] buf = new byte[BUFFER];
    long archiveSize;
    try {
      archiveSize = Files.size(archive);
    } catch (IOException e) {
      throw Downloader.storage("reading the archive's size", e);
    }
    if (format == Format.ZIP) {
      return zip(archive, root, archiveSize, ctx, buf);
    }
    boolean gzip = format == Format.TAR_GZ;
    List<Planned> plan;
    try {
      Run check = new Run(root, archiveSize, ctx, buf, null);
      tar(archive, gzip, check);
      plan = check.seen;
    } catch (IOException e) {
      throw unreadable(format, e);
    }
    Run write = new Run(root, archiveSize, ctx, buf, plan);
    createRoot(write);
    try {
      tar(archive, gzip, write);
      endOfPlan(write);
      syncDirs(write);
    } catch (IOException e) {
      // Writes are turned into OperationFailure where they happen (writeFailure): an IOException
      // here comes from reading the archive.
      Folders.deleteQuietly(root);
      throw unreadable(format, e);
    } catch (OperationFailure | RuntimeException e) {
      Folders.deleteQuietly(root);
      throw e;
    }
    return new Extracted(write.bytes, write.entries);
  }

  private static OperationFailure unreadable(Format format, IOException e) {
    return FirmwareReason.ARCHIVE_INVALID.fail(
        "The archive cannot be read as " + name(format) + ": " + e.getMessage(), e);
  }

  private static String name(Format f) {
    return switch (f) {
      case TAR -> "tar";
      case TAR_GZ -> "tar.gz";
      case ZIP -> "zip";
      case RAW -> "raw";
    };
  }

  /** Creates the staging folder (and its parent), once the checking pass admitted everything. */
  private void createRoot(Run run) throws OperationFailure {
    try {
      Files.createDirectories(run.root.getParent());
      disk.createDirectory(run.root);
    } catch (IOException e) {
      throw Downloader.storage("creating the staging folder " + run.root, e);
    }
  }

  /**
   * One pass over a tar(.gz). Checking: every header is admitted, and the bodies are read with the
   * pass's buffer and dropped to reach the next header (letting {@code TarArchiveInputStream} skip
   * them was 5 to 20 times slower, through small buffers, for a plain tar as for a tar.gz).
   * Writing: every header is admitted again and each file written.
   */
  private void tar(Path archive, boolean gzip, Run run) throws IOException, OperationFailure {
    // The JDK's GZIPInputStream (zlib, like Commons Compress's gzip stream, which feeds its
    // Inflater 8 KiB at a time) with a 256 KiB input buffer: it inflated the benchmark's 200 MB
    // about twice as fast. It reads concatenated members too; the tar layer is Commons Compress.
    try (InputStream file = Files.newInputStream(archive);
        InputStream raw =
            gzip ? new GZIPInputStream(file, BUFFER) : new BufferedInputStream(file, BUFFER);
        TarArchiveInputStream tar = new TarArchiveInputStream(raw)) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        String entryName = e.getName();
        if (e.isSymbolicLink() || e.isLink()) {
          throw link(entryName, e.getLinkName());
        }
        if (!e.isDirectory() && !e.isFile()) {
          throw special(entryName);
        }
        Kind kind = e.isDirectory() ? Kind.DIRECTORY : Kind.FILE;
        Path dest = admit(run, entryName, kind, kind == Kind.FILE ? e.getSize() : 0);
        if (!run.writing()) {
          if (kind == Kind.FILE) {
            readBody(run, tar, entryName);
          }
        } else if (kind == Kind.DIRECTORY) {
          directory(run, dest);
        } else {
          file(run, dest, tar, (e.getMode() & 0100) != 0, entryName);
          fileWritten(run);
        }
      }
    }
  }

  /** Reads an entry's body without keeping it, counting it against the caps. */
  private void readBody(Run run, InputStream in, String name) throws IOException, OperationFailure {
    int n;
    while ((n = in.read(run.buf)) > 0) {
      count(run, n, name);
      progress(run);
    }
  }

  private Extracted zip(Path archive, Path root, long archiveSize, Step ctx, byte[] buf)
      throws OperationFailure {
    Run write;
    try {
      checkCentralDirectory(archive);
      try (ZipFile zip = ZipFile.builder().setPath(archive).get()) {
        // The central directory lists every entry: the checking pass reads only it.
        List<ZipArchiveEntry> all = Collections.list(zip.getEntries());
        Run check = new Run(root, archiveSize, ctx, buf, null);
        for (ZipArchiveEntry e : all) {
          admitZip(check, e);
        }
        write = new Run(root, archiveSize, ctx, buf, check.seen);
        createRoot(write);
        try {
          for (ZipArchiveEntry e : all) {
            Path dest = admitZip(write, e);
            if (e.isDirectory()) {
              directory(write, dest);
              continue;
            }
            try (InputStream in = zip.getInputStream(e)) {
              file(write, dest, in, (e.getUnixMode() & 0100) != 0, e.getName());
            }
            fileWritten(write);
          }
          endOfPlan(write);
          syncDirs(write);
        } catch (IOException | OperationFailure | RuntimeException e) {
          Folders.deleteQuietly(root);
          throw e;
        }
      }
    } catch (IOException e) {
      throw unreadable(Format.ZIP, e);
    }
    return new Extracted(write.bytes, write.entries);
  }

  private Path admitZip(Run run, ZipArchiveEntry e) throws OperationFailure {
    if (e.isUnixSymlink()) {
      throw link(e.getName(), null);
    }
    int type = e.getPlatform() == ZipArchiveEntry.PLATFORM_UNIX ? e.getUnixMode() & 0170000 : 0;
    if (type != 0 && type != 0100000 && type != 0040000) {
      throw special(e.getName());
    }
    Kind kind = e.isDirectory() ? Kind.DIRECTORY : Kind.FILE;
    return admit(run, e.getName(), kind, kind == Kind.FILE ? e.getSize() : 0);
  }

  /** Bytes of central directory allowed per entry of {@code extract.max.entries}. */
  static final int CENTRAL_BYTES_PER_ENTRY = 1024;

  /**
   * ZipFile reads the whole central directory into memory before a single entry can be counted, so
   * a zip of a million entries would fill the heap first. Its size, from the end-of-central-
   * directory record (or the zip64 one), is checked before: at most {@value
   * #CENTRAL_BYTES_PER_ENTRY} bytes per allowed entry.
   */
  private void checkCentralDirectory(Path archive) throws IOException, OperationFailure {
    long limit = (long) limits.maxEntries() * CENTRAL_BYTES_PER_ENTRY;
    try (FileChannel ch = FileChannel.open(archive, StandardOpenOption.READ)) {
      long size = ch.size();
      int tail = (int) Math.min(size, 22 + 65_535);
      ByteBuffer b = ByteBuffer.allocate(tail).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      ch.read(b, size - tail);
      int eocd = -1;
      for (int i = tail - 22; i >= 0; i--) {
        if (b.getInt(i) == 0x06054b50) {
          eocd = i;
          break;
        }
      }
      if (eocd < 0) {
        return; // not a zip: ZipFile says so with its own message
      }
      long entries = b.getShort(eocd + 10) & 0xffffL;
      long central = b.getInt(eocd + 12) & 0xffffffffL;
      if ((entries == 0xffff || central == 0xffffffffL)
          && eocd >= 20
          && b.getInt(eocd - 20) == 0x07064b50) {
        long zip64 = b.getLong(eocd - 20 + 8);
        ByteBuffer r = ByteBuffer.allocate(56).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        ch.read(r, zip64);
        if (r.getInt(0) == 0x06064b50) {
          entries = r.getLong(32);
          central = r.getLong(40);
        }
      }
      if (entries > limits.maxEntries() || central > limit || central < 0) {
        throw FirmwareReason.ARCHIVE_TOO_MANY_ENTRIES.fail(
            "The zip declares "
                + entries
                + " entries in a central directory of "
                + central
                + " bytes, more than "
                + limits.maxEntries()
                + " entries (extract.max.entries) allow; refused before reading it.");
      }
    }
  }

  /**
   * Admits one entry, in either pass: the entry cap, a cancel, the name, the declared size against
   * the caps; in the checking pass the entry must not clash with another, in the writing pass it
   * must be the entry the checking pass saw at this position. Returns where it goes.
   */
  private Path admit(Run run, String name, Kind kind, long declaredSize) throws OperationFailure {
    run.entries++;
    if (run.entries > limits.maxEntries()) {
      throw FirmwareReason.ARCHIVE_TOO_MANY_ENTRIES.fail(
          "The archive holds more than "
              + limits.maxEntries()
              + " entries (extract.max.entries); refused at '"
              + printable(name)
              + "'.");
    }
    if (run.ctx.cancelled()) {
      throw FirmwareReason.CANCELLED.fail("The extraction was cancelled.");
    }
    Path dest = resolve(run, name);
    if (kind == Kind.FILE && dest.equals(run.root)) {
      throw FirmwareReason.ARCHIVE_INVALID.fail(
          "The archive has a file entry named like its root.");
    }
    if (declaredSize > 0) {
      run.declared += declaredSize;
      checkCaps(run, run.declared, name);
    }
    Planned entry = new Planned(name, kind, Math.max(0, declaredSize));
    if (run.writing()) {
      int at = run.seen.size();
      if (at >= run.plan.size() || !run.plan.get(at).equals(entry)) {
        throw changed(name);
      }
    } else {
      clash(run, dest, kind, name);
    }
    run.seen.add(entry);
    return dest;
  }

  /**
   * Refuses an entry named twice, a file where another entry needs a folder, and a folder or file
   * below a file: the writing pass would fail on them half-way.
   */
  private static void clash(Run run, Path dest, Kind kind, String name) throws OperationFailure {
    if (kind == Kind.FILE && run.files.contains(dest)) {
      throw FirmwareReason.ARCHIVE_INVALID.fail(
          "The archive names '" + printable(name) + "' twice; refused.");
    }
    if (kind == Kind.FILE ? run.dirs.contains(dest) : run.files.contains(dest)) {
      throw FirmwareReason.ARCHIVE_INVALID.fail(
          "The archive names '" + printable(name) + "' both as a file and as a folder; refused.");
    }
    for (Path p = dest.getParent(); p != null && !p.equals(run.root); p = p.getParent()) {
      if (run.files.contains(p)) {
        throw FirmwareReason.ARCHIVE_INVALID.fail(
            "The archive entry '"
                + printable(name)
                + "' lies below '"
                + printable(run.root.relativize(p).toString())
                + "', which the archive names as a file; refused.");
      }
      if (!run.dirs.add(p)) {
        break; // its parents were added with it
      }
    }
    if (kind == Kind.FILE) {
      run.files.add(dest);
    } else if (!dest.equals(run.root)) {
      run.dirs.add(dest);
    }
  }

  private static OperationFailure changed(String name) {
    return FirmwareReason.ARCHIVE_INVALID.fail(
        "The archive read differently the second time, at '"
            + printable(name)
            + "'; refused, and what was written is removed.");
  }

  /** The writing pass met fewer entries than the checking pass. */
  private static void endOfPlan(Run run) throws OperationFailure {
    if (run.seen.size() != run.plan.size()) {
      throw changed(run.plan.get(run.seen.size()).name());
    }
  }

  /** Counts {@code n} more bytes of entry {@code name} against the byte and ratio caps. */
  private void count(Run run, int n, String name) throws OperationFailure {
    run.bytes += n;
    checkCaps(run, run.bytes, name);
  }

  private void checkCaps(Run run, long bytes, String name) throws OperationFailure {
    if (bytes > limits.maxBytes()) {
      throw FirmwareReason.ARCHIVE_TOO_LARGE.fail(
          "The archive expands to more than "
              + limits.maxBytes()
              + " bytes (extract.max.bytes); stopped at '"
              + printable(name)
              + "'.");
    }
    if (bytes / run.archiveSize >= limits.maxRatio()) {
      throw FirmwareReason.ARCHIVE_RATIO.fail(
          "The archive expands more than "
              + limits.maxRatio()
              + " times its size of "
              + run.archiveSize
              + " bytes (extract.max.ratio); stopped at '"
              + printable(name)
              + "'.");
    }
  }

  /** After each file written: the crash point between the first file and the rest. */
  private void fileWritten(Run run) {
    run.filesWritten++;
    if (run.filesWritten == 1 && run.plan.size() > 1) {
      crash.reached(CrashPoints.Point.MID_EXTRACT);
    }
  }

  private static OperationFailure special(String name) {
    return FirmwareReason.ARCHIVE_LINK.fail(
        "The archive entry '"
            + printable(name)
            + "' is a device, FIFO or other special file; only files and folders are"
            + " extracted.");
  }

  private static OperationFailure link(String name, String target) {
    return FirmwareReason.ARCHIVE_LINK.fail(
        "The archive entry '"
            + printable(name)
            + "' is a link"
            + (target == null ? "" : " to '" + printable(target) + "'")
            + "; links are refused in archives.");
  }

  /** Where an entry goes, or a refusal when its name could leave the folder. */
  Path resolve(Run run, String name) throws OperationFailure {
    String why = null;
    if (name == null || name.isEmpty()) {
      why = "is empty";
    } else if (name.indexOf('\0') >= 0) {
      why = "holds a NUL character";
    } else if (name.indexOf('\\') >= 0) {
      why = "holds a backslash";
    } else if (name.startsWith("/")) {
      why = "is absolute";
    } else {
      for (String part : name.split("/")) {
        if (part.equals("..")) {
          why = "has a '..' element";
          break;
        }
      }
    }
    if (why == null) {
      try {
        Path dest = run.root.resolve(name).normalize();
        if (!dest.startsWith(run.root)) {
          why = "resolves outside the staging folder";
        } else {
          return dest;
        }
      } catch (InvalidPathException e) {
        why = "is not a valid path";
      }
    }
    throw FirmwareReason.ARCHIVE_PATH_TRAVERSAL.fail(
        "The archive entry '"
            + printable(name)
            + "' "
            + why
            + "; the whole archive is refused and nothing was installed.");
  }

  /** Creates {@code dest} and the folders above it inside the root, through {@link #disk}. */
  private void directory(Run run, Path dest) throws OperationFailure {
    if (dest.equals(run.root) || run.dirs.contains(dest)) {
      return;
    }
    directory(run, dest.getParent());
    try {
      disk.createDirectory(dest);
    } catch (FileAlreadyExistsException e) {
      throw FirmwareReason.ARCHIVE_INVALID.fail(
          "The archive names '"
              + printable(run.root.relativize(dest).toString())
              + "' both as a file and as a folder; refused.",
          e);
    } catch (IOException e) {
      throw writeFailure(run, dest, e);
    }
    run.dirs.add(dest);
  }

  /**
   * A failed write into the staging folder: {@code DISK_FULL} for ENOSPC, else {@code
   * STORAGE_ERROR}; never blamed on the archive.
   */
  private static OperationFailure writeFailure(Run run, Path dest, IOException e) {
    String where = "'" + printable(run.root.relativize(dest).toString()) + "'";
    FirmwareReason code = Downloader.storage(where, e).code();
    return code.fail(
        "Writing " + where + " into the staging folder failed: " + Downloader.reason(e) + ".", e);
  }

  private void file(Run run, Path dest, InputStream in, boolean executable, String name)
      throws IOException, OperationFailure {
    directory(run, dest.getParent());
    FileChannel out;
    try {
      out = disk.createNew(dest);
    } catch (FileAlreadyExistsException e) {
      throw FirmwareReason.ARCHIVE_INVALID.fail(
          "The archive names '" + printable(name) + "' twice; refused.", e);
    } catch (IOException e) {
      throw writeFailure(run, dest, e);
    }
    try (out) {
      int n;
      while ((n = in.read(run.buf)) > 0) {
        count(run, n, name);
        ByteBuffer b = ByteBuffer.wrap(run.buf, 0, n);
        try {
          while (b.hasRemaining()) {
            out.write(b);
          }
        } catch (IOException e) {
          throw writeFailure(run, dest, e);
        }
        progress(run);
      }
      try {
        out.force(true);
        Files.setPosixFilePermissions(dest, executable ? EXECUTABLE : REGULAR);
      } catch (IOException e) {
        throw writeFailure(run, dest, e);
      }
    }
  }

  private static void progress(Run run) throws OperationFailure {
    long now = System.nanoTime();
    if (now - run.lastProgress >= PROGRESS_EVERY.toNanos()) {
      run.lastProgress = now;
      if (run.ctx.cancelled()) {
        throw FirmwareReason.CANCELLED.fail("The extraction was cancelled.");
      }
      run.ctx.progress(
          run.step,
          0,
          Map.of(
              "extractedBytes",
              Long.toString(run.bytes),
              "entries",
              Integer.toString(run.entries)));
      run.ctx.extendStepTimeout(Duration.ofMinutes(5));
    }
  }

  private static void syncDirs(Run run) throws OperationFailure {
    List<Path> dirs = new ArrayList<>(run.dirs);
    dirs.add(run.root);
    for (Path d : dirs) {
      try {
        Folders.fsyncDir(d);
      } catch (IOException e) {
        throw writeFailure(run, d, e);
      }
    }
  }

  /** An entry name fit for a log line and statusDetails: control characters shown as '?'. */
  static String printable(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    return b.toString();
  }
}
