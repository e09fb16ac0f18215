package org.gantry.op.command.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;

/** An execution's context as the engine gives it, with cancellation the test can trigger. */
final class TestContext implements OperationContext {

  private final JobParameters parameters;
  private final Path workDir;
  private final List<Runnable> onCancel = new CopyOnWriteArrayList<>();
  private volatile boolean cancelled;

  TestContext(Map<String, ?> parameters, Path workDir) {
    this.parameters = JobParameters.of(parameters);
    this.workDir = workDir;
  }

  void cancel() {
    cancelled = true;
    onCancel.forEach(Runnable::run);
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
  public void progress(String step, int percent, Map<String, String> details) {}

  @Override
  public void extendStepTimeout(Duration limit) {}

  @Override
  public Optional<String> checkpoint(String key) {
    return Optional.empty();
  }

  @Override
  public void checkpoint(String key, String value) {}

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
  public JobParameters refreshParameters() {
    return parameters;
  }
}
