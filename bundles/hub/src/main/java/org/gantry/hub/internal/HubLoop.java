package org.gantry.hub.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub thread: the one thread that owns the state. It takes a batch of queued work (MQTT
 * requests, management calls), runs each, then {@link HubCore#tick}s the clock, commits the batch
 * to the store with one fsync (group commit), and only then publishes the answers and notifications
 * and completes the management calls. With nothing to do it still ticks every {@code tickMillis},
 * re-reading the clock, so timeouts and rollouts advance with the clock even on an idle hub.
 */
final class HubLoop {
  /** Work that runs on the hub thread and may add messages to publish. */
  @FunctionalInterface
  interface Work<T> {
    T run(List<Outbound> out) throws Exception;
  }

  private record Item<T>(
      Work<T> work, CompletableFuture<T> done, Function<Exception, List<Outbound>> notStored) {}

  private static final Logger LOG = LoggerFactory.getLogger(HubLoop.class);
  private static final int MAX_BATCH = 1000;

  private final HubCore core;
  private final Consumer<List<Outbound>> publisher;
  private final long tickMillis;
  private final BlockingQueue<Item<?>> queue;
  private final Thread thread;
  private volatile boolean running = true;

  HubLoop(HubCore core, Consumer<List<Outbound>> publisher, int capacity, long tickMillis) {
    this.core = core;
    this.publisher = publisher;
    this.tickMillis = tickMillis;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.thread = new Thread(this::loop, "gantry-hub");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /**
   * Queues work without waiting; false when the queue is full.
   *
   * @param notStored what to publish instead of the work's messages when its batch cannot be stored
   */
  boolean offer(Work<?> work, Function<Exception, List<Outbound>> notStored) {
    return running && queue.offer(new Item<>(work, null, notStored));
  }

  /**
   * Queues work whose result is wanted: the future completes once its changes are on disk.
   *
   * @throws RejectedExecutionException when the queue is full or the hub is stopping
   */
  <T> CompletableFuture<T> submit(Work<T> work) {
    CompletableFuture<T> f = new CompletableFuture<>();
    if (!running || !queue.offer(new Item<>(work, f, null))) {
      throw new RejectedExecutionException("The hub's queue is full");
    }
    return f;
  }

  /**
   * Stops after the batch in hand; waits up to {@code millis} for the thread to end. The thread is
   * not interrupted: an interrupt during a write would close the store's channel mid-batch.
   */
  void stop(long millis) {
    running = false;
    try {
      thread.join(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      LOG.warn("The hub thread did not stop within {} ms", millis);
    }
    for (Item<?> i; (i = queue.poll()) != null; ) {
      if (i.done() != null) {
        i.done().completeExceptionally(new RejectedExecutionException("The hub stopped"));
      }
    }
  }

  private void loop() {
    List<Item<?>> batch = new ArrayList<>();
    while (running) {
      batch.clear();
      try {
        Item<?> first = queue.poll(tickMillis, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          queue.drainTo(batch, MAX_BATCH - 1);
        }
      } catch (InterruptedException e) {
        if (!running) {
          break;
        }
        continue;
      }
      try {
        runBatch(batch);
      } catch (RuntimeException e) {
        // A bug must not stop the hub thread: the batch is lost, the hub goes on.
        LOG.error("The hub thread failed on a batch of {} requests", batch.size(), e);
      }
    }
  }

  private void runBatch(List<Item<?>> batch) {
    List<Outbound> out = new ArrayList<>();
    List<Runnable> completions = new ArrayList<>();
    List<CompletableFuture<?>> waiting = new ArrayList<>();
    for (Item<?> item : batch) {
      run(item, out, completions, waiting);
    }
    try {
      core.tick(out);
    } catch (RuntimeException e) {
      LOG.error("The hub's timers failed", e);
    }
    try {
      core.commit();
    } catch (HubCore.NotStoredException e) {
      for (CompletableFuture<?> f : waiting) {
        f.completeExceptionally(e);
      }
      LOG.error("A batch of {} requests was not stored; each is refused", batch.size());
      List<Outbound> refusals = new ArrayList<>();
      for (Item<?> item : batch) {
        if (item.notStored() != null) {
          refusals.addAll(item.notStored().apply(e));
        }
      }
      if (!refusals.isEmpty()) {
        publisher.accept(refusals);
      }
      return;
    }
    if (!out.isEmpty()) {
      publisher.accept(out);
    }
    completions.forEach(Runnable::run);
  }

  private static <T> void run(
      Item<T> item,
      List<Outbound> out,
      List<Runnable> completions,
      List<CompletableFuture<?>> waiting) {
    CompletableFuture<T> f = item.done();
    try {
      T result = item.work().run(out);
      if (f != null) {
        waiting.add(f);
        completions.add(() -> f.complete(result));
      }
    } catch (Exception e) {
      if (f != null) {
        // A refused call changed nothing: its error is its answer whatever the commit does.
        f.completeExceptionally(e);
      } else {
        LOG.error("A request failed on the hub thread", e);
      }
    }
  }
}
