package org.gantry.api.document;

import java.util.Objects;
import org.gantry.api.operation.JobParameters;

/**
 * One step of a job document: the operation type to run and its parameters. Immutable.
 *
 * @since 1.0
 */
public final class JobStep {

  private final String operation;
  private final JobParameters parameters;

  /**
   * Creates a step.
   *
   * @param operation the operation type, matched against {@link
   *     org.gantry.api.operation.JobOperation#TYPE}; not blank
   * @param parameters the operation's parameters
   */
  public JobStep(String operation, JobParameters parameters) {
    this.operation = Objects.requireNonNull(operation, "operation");
    if (operation.isBlank()) {
      throw new IllegalArgumentException("operation must not be blank");
    }
    this.parameters = Objects.requireNonNull(parameters, "parameters");
  }

  /**
   * The operation type.
   *
   * @return the type, for example {@code diagnostics}
   */
  public String operation() {
    return operation;
  }

  /**
   * The operation's parameters.
   *
   * @return the parameters, never {@code null}
   */
  public JobParameters parameters() {
    return parameters;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobStep s
        && s.operation.equals(operation)
        && s.parameters.equals(parameters);
  }

  @Override
  public int hashCode() {
    return Objects.hash(operation, parameters);
  }

  @Override
  public String toString() {
    return operation + parameters;
  }
}
