package org.gantry.itests.bench.noop;

import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationResult;

/**
 * The engine benchmark's operation: succeeds at once and touches nothing, so that a job's latency
 * is the engine's and the protocol's alone (issue 4 asks for "a no-op operation"). Never shipped:
 * {@link org.gantry.itests.bench.NoopBundle} packs it into a bundle for the benchmark's runtime.
 */
public final class NoopOperation implements JobOperation {

  /** The operation type a job document names. */
  public static final String TYPE = "noop";

  @Override
  public OperationResult execute(OperationContext context) {
    return OperationResult.succeeded();
  }
}
