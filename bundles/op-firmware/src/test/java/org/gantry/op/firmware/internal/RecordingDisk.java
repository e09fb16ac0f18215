package org.gantry.op.firmware.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The platform's {@link Disk}, recording every file and folder staging creates through it, in
 * order, and able to run an action just before the first folder is created (the moment the checking
 * pass has ended and the writing pass begins).
 */
final class RecordingDisk implements Disk {

  /** What is run before the first folder is created. */
  @FunctionalInterface
  interface Hook {
    void run() throws IOException;
  }

  private final List<Path> created = new CopyOnWriteArrayList<>();
  private Hook beforeFirstFolder;

  /** Runs {@code hook} once, before the first folder is created. */
  RecordingDisk beforeFirstFolder(Hook hook) {
    this.beforeFirstFolder = hook;
    return this;
  }

  /** Every path created so far, in order. */
  List<Path> created() {
    return List.copyOf(created);
  }

  @Override
  public FileChannel createNew(Path file) throws IOException {
    created.add(file);
    return Disk.DEFAULT.createNew(file);
  }

  @Override
  public void createDirectory(Path dir) throws IOException {
    Hook h = beforeFirstFolder;
    beforeFirstFolder = null;
    if (h != null) {
      h.run();
    }
    created.add(dir);
    Disk.DEFAULT.createDirectory(dir);
  }
}
