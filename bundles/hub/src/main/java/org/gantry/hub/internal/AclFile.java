package org.gantry.hub.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker ACL file the hub writes from its thing principals, in Mosquitto's {@code acl_file}
 * syntax: the admin principals (the hub's own connection) may use every thing's jobs topics, every
 * other principal only {@code $aws/things/<thing>/jobs/#} of the things attached to it. Written
 * whole on every change (temp file in the same folder, fsync, atomic rename, folder fsync), so a
 * broker that reads it never sees half a file; then the optional reload command runs on a thread of
 * its own, with a timeout, so the hub thread never waits for it.
 */
final class AclFile implements AutoCloseable {
  static final String HEADER =
      "# Written by the Gantry hub from its thing principals; do not edit (rewritten on every"
          + " change).";
  private static final Logger LOG = LoggerFactory.getLogger(AclFile.class);

  private final Path file;
  private final Path temp;
  private final List<String> admins;
  private final List<String> reloadCommand;
  private final long reloadTimeoutMillis;
  private final ExecutorService reloads;
  private final AtomicBoolean reloadPending = new AtomicBoolean();

  /**
   * @param file the ACL file; its folder is created if missing
   * @param admins principals allowed every thing's jobs topics
   * @param reloadCommand the program and arguments run after each rewrite (no shell); empty for
   *     none
   * @param reloadTimeoutMillis how long the command may run before it is killed
   */
  AclFile(Path file, List<String> admins, List<String> reloadCommand, long reloadTimeoutMillis)
      throws IOException {
    this.file = file.toAbsolutePath();
    this.temp = this.file.resolveSibling(this.file.getFileName() + ".tmp");
    this.admins = List.copyOf(new TreeSet<>(admins));
    this.reloadCommand = List.copyOf(reloadCommand);
    this.reloadTimeoutMillis = reloadTimeoutMillis;
    Files.createDirectories(this.file.getParent());
    this.reloads =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "gantry-hub-acl-reload");
              t.setDaemon(true);
              return t;
            });
  }

  Path file() {
    return file;
  }

  /** The file's text for these attachments (principal to its things, both sorted). */
  String render(Map<String, List<String>> attachments) {
    StringBuilder sb = new StringBuilder(HEADER).append('\n');
    for (String admin : admins) {
      sb.append("user ").append(admin).append('\n');
      sb.append("topic readwrite $aws/things/+/jobs/#\n");
    }
    for (Map.Entry<String, List<String>> e : new java.util.TreeMap<>(attachments).entrySet()) {
      if (admins.contains(e.getKey())) {
        continue;
      }
      sb.append('\n').append("user ").append(e.getKey()).append('\n');
      for (String thing : new TreeSet<>(e.getValue())) {
        sb.append("topic readwrite $aws/things/").append(thing).append("/jobs/#\n");
      }
    }
    return sb.toString();
  }

  /**
   * Writes the file for these attachments and queues the reload command. A failed write is logged
   * (the attachments are stored; the next change or start writes the file again).
   */
  void write(Map<String, List<String>> attachments) {
    byte[] bytes = render(attachments).getBytes(StandardCharsets.UTF_8);
    try {
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
        throw new IOException("the folder " + file.getParent() + " has no atomic rename", e);
      }
      forceFolder();
    } catch (IOException e) {
      LOG.error("Could not write the ACL file {}: {}", file, e.toString());
      return;
    }
    LOG.info("ACL file {} written: {} principals", file, attachments.size());
    reload();
  }

  private void forceFolder() {
    try (FileChannel ch = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      LOG.debug("Could not force the folder {}: {}", file.getParent(), e.toString());
    }
  }

  /** Queues one run of the reload command; runs that pile up while one is queued fold into it. */
  private void reload() {
    if (reloadCommand.isEmpty() || !reloadPending.compareAndSet(false, true)) {
      return;
    }
    try {
      reloads.execute(
          () -> {
            reloadPending.set(false);
            runReload();
          });
    } catch (RejectedExecutionException e) {
      reloadPending.set(false);
      LOG.debug("The hub is stopping; ACL reload command not run");
    }
  }

  private void runReload() {
    Process p;
    try {
      p =
          new ProcessBuilder(reloadCommand)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
    } catch (IOException e) {
      LOG.error("ACL reload command {} could not start: {}", reloadCommand, e.toString());
      return;
    }
    try {
      if (!p.waitFor(reloadTimeoutMillis, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        LOG.error(
            "ACL reload command {} did not end within {} ms; killed it",
            reloadCommand,
            reloadTimeoutMillis);
      } else if (p.exitValue() != 0) {
        LOG.error("ACL reload command {} failed with exit code {}", reloadCommand, p.exitValue());
      } else {
        LOG.info("ACL reload command {} done", reloadCommand);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    reloads.shutdownNow();
    try {
      if (!reloads.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("The ACL reload thread did not stop within 5 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
