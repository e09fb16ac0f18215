package org.gantry.api.document;

import java.util.List;
import java.util.Objects;

/**
 * A parsed, validated job document: the steps to carry out, in order. Immutable.
 *
 * @since 1.0
 */
public final class JobDocument {

  private final List<JobStep> steps;

  /**
   * Creates a document.
   *
   * @param steps the steps in order; at least one
   * @throws IllegalArgumentException when {@code steps} is empty
   */
  public JobDocument(List<JobStep> steps) {
    this.steps = List.copyOf(Objects.requireNonNull(steps, "steps"));
    if (this.steps.isEmpty()) {
      throw new IllegalArgumentException("a job document has at least one step");
    }
  }

  /**
   * The steps to carry out, in order; the execution succeeds when every step succeeds.
   *
   * @return an immutable, non-empty list
   */
  public List<JobStep> steps() {
    return steps;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobDocument d && d.steps.equals(steps);
  }

  @Override
  public int hashCode() {
    return steps.hashCode();
  }

  @Override
  public String toString() {
    return "JobDocument" + steps;
  }
}
