package org.gantry.api.document;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A parsed, validated job document: the steps to carry out, in order, and optionally a final step
 * (since 1.1) that runs only when every other step succeeded, for example to clean up. Immutable.
 *
 * @since 1.0
 */
public final class JobDocument {

  private final List<JobStep> steps;
  private final JobStep finalStep;

  /**
   * Creates a document without a final step.
   *
   * @param steps the steps in order; at least one
   * @throws IllegalArgumentException when {@code steps} is empty
   */
  public JobDocument(List<JobStep> steps) {
    this(steps, null);
  }

  /**
   * Creates a document with a final step, which {@link #steps()} lists last.
   *
   * @param steps the steps before the final one, in order; may be empty when {@code finalStep} is
   *     given
   * @param finalStep the step that runs only when all of {@code steps} succeeded, or {@code null}
   *     for none
   * @throws IllegalArgumentException when there is no step at all
   * @since 1.1
   */
  public JobDocument(List<JobStep> steps, JobStep finalStep) {
    List<JobStep> all = new ArrayList<>(Objects.requireNonNull(steps, "steps"));
    if (finalStep != null) {
      all.add(finalStep);
    }
    this.steps = List.copyOf(all);
    if (this.steps.isEmpty()) {
      throw new IllegalArgumentException("a job document has at least one step");
    }
    this.finalStep = finalStep;
  }

  /**
   * Every step to carry out, in the order they run, the {@linkplain #finalStep() final step} (if
   * any) last. The steps run one after the other and the first that does not succeed ends the
   * execution, so a consumer that reads only this list (as 1.0 consumers do) still runs the final
   * step only after every other step succeeded; the execution succeeds when every step succeeds.
   *
   * @return an immutable, non-empty list
   */
  public List<JobStep> steps() {
    return steps;
  }

  /**
   * The final step: the same object as the last element of {@link #steps()}, which runs only when
   * every step before it succeeded (the AWS IoT Device Client's {@code finalStep}; Gantry's own
   * {@code "finalStep"}). A consumer may treat it differently in how it reports it, never in when
   * it runs.
   *
   * @return the final step, or empty when the document has none
   * @since 1.1
   */
  public Optional<JobStep> finalStep() {
    return Optional.ofNullable(finalStep);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobDocument d
        && d.steps.equals(steps)
        && Objects.equals(d.finalStep, finalStep);
  }

  @Override
  public int hashCode() {
    return Objects.hash(steps, finalStep);
  }

  @Override
  public String toString() {
    return "JobDocument" + steps + (finalStep == null ? "" : " final " + finalStep);
  }
}
