package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where staging writes an image: every file and folder of an extracted archive, and a raw image's
 * copy, is created here, new ({@code CREATE_NEW}: nothing is written through an existing path). The
 * one file-system boundary of staging, so that running out of space there is handled in one way and
 * can be shown in a test with a disk that fills up, and a test can record every path an extraction
 * creates.
 */
@FunctionalInterface
interface Disk {

  /** The platform's file system. */
  Disk DEFAULT =
      file -> FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

  /**
   * Creates {@code file} for writing.
   *
   * @throws java.nio.file.FileAlreadyExistsException when it exists
   */
  FileChannel createNew(Path file) throws IOException;

  /**
   * Creates the folder {@code dir}, whose parent exists.
   *
   * @throws java.nio.file.FileAlreadyExistsException when something exists there
   */
  default void createDirectory(Path dir) throws IOException {
    Files.createDirectory(dir);
  }
}
