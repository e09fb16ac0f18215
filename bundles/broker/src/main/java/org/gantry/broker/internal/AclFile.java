package org.gantry.broker.internal;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ACL file and the rules last read from it. The file is checked once a second (its inode, size
 * and modification time; the hub replaces it by rename) and read again when any of them changed;
 * new rules replace the old ones in one volatile write. An unreadable or malformed file leaves the
 * last good rules in force (before the first good read: {@link AclRules#DENY_ALL}) and is logged
 * once per change with the line number and the reason.
 */
final class AclFile implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AclFile.class);

  private final Path file;
  private final ScheduledExecutorService checker;
  private final ScheduledFuture<?> schedule;
  private volatile AclRules rules = AclRules.DENY_ALL;
  private final AtomicLong loads = new AtomicLong();
  private final AtomicLong changes = new AtomicLong();
  private Object lastSeen;

  /** Reads the file now and starts checking it once a second. */
  AclFile(Path file) {
    this.file = file;
    check();
    this.checker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "gantry-broker-acl");
              t.setDaemon(true);
              return t;
            });
    this.schedule = checker.scheduleWithFixedDelay(this::checkLogged, 1, 1, TimeUnit.SECONDS);
  }

  /** The rules in force. */
  AclRules rules() {
    return rules;
  }

  /** How many changes of the file have been seen (loaded or refused). */
  long changes() {
    return changes.get();
  }

  /**
   * Waits until more than {@code seen} changes have been seen, for tests that replaced the file.
   *
   * @return whether that happened within the timeout
   */
  synchronized boolean awaitChanges(long seen, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (changes.get() <= seen) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        return false;
      }
      wait(left);
    }
    return true;
  }

  /** {@link #check}, with anything unexpected logged: an exception would end the schedule. */
  private void checkLogged() {
    try {
      check();
    } catch (RuntimeException e) {
      LOG.error("Checking ACL file {} failed; will look again in a second", file, e);
    }
  }

  /** Looks at the file and reloads it when it changed; called once a second and at start. */
  synchronized void check() {
    Object seen;
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      seen = List.of(Objects.toString(a.fileKey()), a.size(), a.lastModifiedTime());
    } catch (NoSuchFileException e) {
      seen = "missing";
    } catch (IOException e) {
      seen = "unreadable: " + e;
    }
    if (seen.equals(lastSeen)) {
      return;
    }
    lastSeen = seen;
    try {
      load();
    } finally {
      changes.incrementAndGet();
      notifyAll();
    }
  }

  private void load() {
    String keeping = loads.get() == 0 ? "refusing every client" : "keeping the previous rules";
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (MalformedInputException e) {
      LOG.error("ACL file {} is not UTF-8 text; {}", file, keeping);
      return;
    } catch (NoSuchFileException e) {
      LOG.error("ACL file {} does not exist; {}", file, keeping);
      return;
    } catch (IOException e) {
      LOG.error("ACL file {} cannot be read ({}); {}", file, e.toString(), keeping);
      return;
    }
    try {
      AclRules parsed = AclRules.parse(lines);
      rules = parsed;
      loads.incrementAndGet();
      LOG.info("ACL file {} loaded: rules for {} principals", file, parsed.principals());
    } catch (AclRules.SyntaxException e) {
      LOG.error("ACL file {} refused at {}; {}", file, e.getMessage(), keeping);
    }
  }

  @Override
  public void close() {
    schedule.cancel(false);
    checker.shutdownNow();
  }
}
