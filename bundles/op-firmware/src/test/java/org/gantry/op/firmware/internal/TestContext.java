package org.gantry.op.firmware.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;

/**
 * An execution's context as the engine gives it: durable checkpoints kept in a map that a test can
 * hand to a second context (a restart), progress recorded, cancellation the test can trigger, and
 * {@link #refreshParameters()} answering with parameters the test sets.
 */
final class TestContext implements OperationContext {

  final Map<String, String> checkpoints;
  final List<Map<String, String>> progress = new CopyOnWriteArrayList<>();
  final List<Duration> extensions = new CopyOnWriteArrayList<>();
  final AtomicInteger refreshes = new AtomicInteger();
  private final JobParameters parameters;
  private final Path workDir;
  private final List<Runnable> onCancel = new CopyOnWriteArrayList<>();
  private volatile JobParameters refreshed;
  private volatile boolean cancelled;

  TestContext(Map<String, ?> parameters, Path workDir) {
    this(parameters, workDir, new ConcurrentHashMap<>());
  }

  /** A context after a restart: the same work folder and checkpoints. */
  TestContext(Map<String, ?> parameters, Path workDir, Map<String, String> checkpoints) {
    this.parameters = JobParameters.of(parameters);
    this.workDir = workDir;
    this.checkpoints = checkpoints;
  }

  void refreshWith(Map<String, ?> p) {
    refreshed = JobParameters.of(p);
  }

  void cancel() {
    cancelled = true;
    new ArrayList<>(onCancel).forEach(Runnable::run);
  }

  @Override
  public String thingName() {
    return "T-1";
  }

  @Override
  public String jobId() {
    return "job-1";
  }

  @Override
  public long executionNumber() {
    return 1;
  }

  @Override
  public JobParameters parameters() {
    return parameters;
  }

  @Override
  public Path workDir() {
    return workDir;
  }

  @Override
  public void progress(String step, int percent, Map<String, String> details) {
    Map<String, String> m = new ConcurrentHashMap<>(details);
    m.put("step", step);
    m.put("percent", Integer.toString(percent));
    progress.add(m);
  }

  @Override
  public void extendStepTimeout(Duration limit) {
    extensions.add(limit);
  }

  @Override
  public Optional<String> checkpoint(String key) {
    return Optional.ofNullable(checkpoints.get(key));
  }

  @Override
  public void checkpoint(String key, String value) {
    if (value == null) {
      checkpoints.remove(key);
    } else {
      checkpoints.put(key, value);
    }
  }

  @Override
  public boolean cancelled() {
    return cancelled;
  }

  @Override
  public void onCancel(Runnable action) {
    if (cancelled) {
      action.run();
    } else {
      onCancel.add(action);
    }
  }

  @Override
  public JobParameters refreshParameters() throws OperationException {
    refreshes.incrementAndGet();
    if (refreshed == null) {
      return parameters;
    }
    return refreshed;
  }
}
