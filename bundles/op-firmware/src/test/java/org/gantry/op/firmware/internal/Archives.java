package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/** Builds tar, tar.gz and zip archives for tests, hostile ones included. */
final class Archives implements AutoCloseable {

  private final TarArchiveOutputStream tar;
  private final ZipArchiveOutputStream zip;

  private Archives(TarArchiveOutputStream tar, ZipArchiveOutputStream zip) {
    this.tar = tar;
    this.zip = zip;
  }

  static Archives tar(Path file, boolean gzip) throws IOException {
    OutputStream out = Files.newOutputStream(file);
    if (gzip) {
      out = new GzipCompressorOutputStream(out);
    }
    TarArchiveOutputStream t = new TarArchiveOutputStream(out);
    t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    t.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    return new Archives(t, null);
  }

  static Archives zip(Path file) throws IOException {
    return new Archives(null, new ZipArchiveOutputStream(file));
  }

  Archives file(String name, byte[] content, int mode) throws IOException {
    if (tar != null) {
      TarArchiveEntry e = new TarArchiveEntry(name, true);
      e.setSize(content.length);
      e.setMode(mode);
      tar.putArchiveEntry(e);
      tar.write(content);
      tar.closeArchiveEntry();
    } else {
      ZipArchiveEntry e = new ZipArchiveEntry(name);
      e.setUnixMode(0100000 | mode);
      zip.putArchiveEntry(e);
      zip.write(content);
      zip.closeArchiveEntry();
    }
    return this;
  }

  Archives file(String name, byte[] content) throws IOException {
    return file(name, content, 0644);
  }

  Archives dir(String name) throws IOException {
    if (tar != null) {
      TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", true);
      tar.putArchiveEntry(e);
      tar.closeArchiveEntry();
    } else {
      zip.putArchiveEntry(new ZipArchiveEntry(name.endsWith("/") ? name : name + "/"));
      zip.closeArchiveEntry();
    }
    return this;
  }

  Archives symlink(String name, String target) throws IOException {
    if (tar != null) {
      TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK, true);
      e.setLinkName(target);
      tar.putArchiveEntry(e);
      tar.closeArchiveEntry();
    } else {
      ZipArchiveEntry e = new ZipArchiveEntry(name);
      e.setUnixMode(0120777);
      zip.putArchiveEntry(e);
      zip.write(target.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      zip.closeArchiveEntry();
    }
    return this;
  }

  Archives hardlink(String name, String target) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK, true);
    e.setLinkName(target);
    tar.putArchiveEntry(e);
    tar.closeArchiveEntry();
    return this;
  }

  @Override
  public void close() throws IOException {
    if (tar != null) {
      tar.close();
    } else {
      zip.close();
    }
  }
}
