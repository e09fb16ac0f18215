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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.gantry.op.firmware.internal.Request.Format;
import org.gantry.op.firmware.internal.Settings.Limits;

/**
 * Unpacks a verified tar, tar.gz or zip archive into a new folder, with Apache Commons Compress and
 * the format the document declares (never detected from the content). Every entry name is checked
 * before its bytes are written: no absolute names, no backslashes, no {@code ..} element, and the
 * resolved path ({@link Path#normalize()}) must lie under the folder ({@link Path#startsWith}, so a
 * sibling such as {@code /a/bc} is not under {@code /a/b}). Symbolic and hard links, devices and
 * FIFOs are refused. Bytes, entries and the expansion ratio (bytes written over the archive's size)
 * are capped while reading, so a bomb stops at the cap with a fixed-size buffer. Files are created
 * with {@code CREATE_NEW} (an entry named twice is refused) and synced; the folder is the caller's
 * staging folder and is deleted whole when anything is refused.
 */
final class Extractor {

  /** What an extraction produced. */
  record Extracted(long bytes, int entries) {}

  private static final int BUFFER = 256 * 1024;
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);
  private static final Set<PosixFilePermission> EXECUTABLE =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> REGULAR =
      PosixFilePermissions.fromString("rw-r--r--");

  private final Limits limits;
  private final Disk disk;

  Extractor(Limits limits) {
    this(limits, Disk.DEFAULT);
  }

  Extractor(Limits limits, Disk disk) {
    this.limits = limits;
    this.disk = disk;
  }

  /** The running totals of one extraction. */
  private final class Run {
    final Path root;
    final long archiveSize;
    final Step ctx;
    final byte[] buf = new byte[BUFFER];
    final Set<Path> dirs = new LinkedHashSet<>();
    long bytes;
    int entries;
    long lastProgress = System.nanoTime();

    Run(Path root, long archiveSize, Step ctx) {
      this.root = root;
      this.archiveSize = Math.max(1, archiveSize);
      this.ctx = ctx;
    }
  }

  /**
   * Extracts {@code archive} into {@code target}, which must not exist. On any failure {@code
   * target} is deleted with what was written into it.
   */
  Extracted extract(Path archive, Format format, Path target, Step ctx) throws OperationFailure {
    if (format == Format.RAW) {
      throw new IllegalArgumentException("a raw image is not an archive");
    }
    try {
      Files.createDirectories(target.getParent());
      Files.createDirectory(target);
    } catch (IOException e) {
      throw Downloader.storage("creating the staging folder " + target, e);
    }
    Run run;
    try {
      run = new Run(target.toAbsolutePath().normalize(), Files.size(archive), ctx);
      if (format == Format.ZIP) {
        zip(archive, run);
      } else {
        tar(archive, format == Format.TAR_GZ, run);
      }
      syncDirs(run);
    } catch (OperationFailure e) {
      Folders.deleteQuietly(target);
      throw e;
    } catch (IOException e) {
      // Writes are turned into OperationFailure where they happen (writeFailure): an IOException
      // here comes from reading the archive.
      Folders.deleteQuietly(target);
      throw FirmwareReason.ARCHIVE_INVALID.fail(
          "The archive cannot be read as " + name(format) + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      Folders.deleteQuietly(target);
      throw e;
    }
    return new Extracted(run.bytes, run.entries);
  }

  private static String name(Format f) {
    return switch (f) {
      case TAR -> "tar";
      case TAR_GZ -> "tar.gz";
      case ZIP -> "zip";
      case RAW -> "raw";
    };
  }

  private void tar(Path archive, boolean gzip, Run run) throws IOException, OperationFailure {
    InputStream file = new BufferedInputStream(Files.newInputStream(archive), BUFFER);
    try (InputStream raw = gzip ? new GzipCompressorInputStream(file, true) : file;
        TarArchiveInputStream tar = new TarArchiveInputStream(raw)) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        String entryName = e.getName();
        countEntry(run, entryName);
        if (e.isSymbolicLink() || e.isLink()) {
          throw link(entryName, e.getLinkName());
        }
        Path dest = resolve(run, entryName);
        if (e.isDirectory()) {
          directory(run, dest);
        } else if (e.isFile()) {
          file(run, dest, tar, (e.getMode() & 0100) != 0, entryName);
        } else {
          throw FirmwareReason.ARCHIVE_LINK.fail(
              "The archive entry '"
                  + printable(entryName)
                  + "' is a device, FIFO or other special file; only files and folders are"
                  + " extracted.");
        }
      }
    }
  }

  private void zip(Path archive, Run run) throws IOException, OperationFailure {
    checkCentralDirectory(archive);
    try (ZipFile zip = ZipFile.builder().setPath(archive).get()) {
      // The central directory lists every entry: names, links and count are refused before a byte
      // is written. Sizes in it may lie, so bytes are also counted while writing.
      List<ZipArchiveEntry> all = new ArrayList<>();
      for (ZipArchiveEntry e : Collections.list(zip.getEntries())) {
        countEntry(run, e.getName());
        if (e.isUnixSymlink()) {
          throw link(e.getName(), null);
        }
        resolve(run, e.getName());
        all.add(e);
      }
      run.entries = 0;
      for (ZipArchiveEntry e : all) {
        run.entries++;
        Path dest = resolve(run, e.getName());
        if (e.isDirectory()) {
          directory(run, dest);
          continue;
        }
        try (InputStream in = zip.getInputStream(e)) {
          file(run, dest, in, (e.getUnixMode() & 0100) != 0, e.getName());
        }
      }
    }
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

  private void countEntry(Run run, String name) throws OperationFailure {
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

  private static void directory(Run run, Path dest) throws OperationFailure {
    if (!dest.equals(run.root)) {
      try {
        Files.createDirectories(dest);
      } catch (IOException e) {
        throw writeFailure(run, dest, e);
      }
      run.dirs.add(dest);
    }
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
    if (dest.equals(run.root)) {
      throw FirmwareReason.ARCHIVE_INVALID.fail(
          "The archive has a file entry named like its root.");
    }
    Path parent = dest.getParent();
    if (!parent.equals(run.root)) {
      directory(run, parent);
    }
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
        run.bytes += n;
        if (run.bytes > limits.maxBytes()) {
          throw FirmwareReason.ARCHIVE_TOO_LARGE.fail(
              "The archive expands to more than "
                  + limits.maxBytes()
                  + " bytes (extract.max.bytes); stopped at '"
                  + printable(name)
                  + "'.");
        }
        if (run.bytes / run.archiveSize >= limits.maxRatio()) {
          throw FirmwareReason.ARCHIVE_RATIO.fail(
              "The archive expands more than "
                  + limits.maxRatio()
                  + " times its size of "
                  + run.archiveSize
                  + " bytes (extract.max.ratio); stopped at '"
                  + printable(name)
                  + "'.");
        }
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
          "extracting",
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
