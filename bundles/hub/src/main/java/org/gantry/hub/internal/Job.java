package org.gantry.hub.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * A job: its definition (fixed at creation) and its progress. Mutable; confined to the hub thread.
 * Field names are the store's format.
 */
final class Job {
  /** Job status values, as AWS IoT names them. */
  static final String IN_PROGRESS = "IN_PROGRESS";

  static final String COMPLETED = "COMPLETED";
  static final String CANCELED = "CANCELED";
  static final String SNAPSHOT = "SNAPSHOT";
  static final String CONTINUOUS = "CONTINUOUS";

  // ------------------------------------------------------------------ definition

  String jobId;

  /** The job document as the caller wrote it (a JSON object, at most 32,768 characters). */
  String document;

  String description;
  String targetSelection = SNAPSHOT;

  /** Thing names targeted directly, in the order the job named them. */
  List<String> targets = new ArrayList<>();

  /** Thing group names targeted (with their nested groups), in the order the job named them. */
  List<String> groupTargets = new ArrayList<>();

  /** {@code timeoutConfig.inProgressTimeoutInMinutes}; null for none. */
  Long inProgressTimeoutInMinutes;

  /**
   * {@code presignedUrlConfig.expiresInSec}: the lifetime of the URLs that replace the document's
   * presigned-URL placeholders each time a device fetches it; null when the job has none.
   */
  Long presignedUrlExpiresInSec;

  /** {@code documentSource} as given to CreateJob (the document was read from it then); or null. */
  String documentSource;

  /** {@code jobExecutionsRolloutConfig}; null for none (every execution is delivered at once). */
  Rollout rollout;

  /** {@code abortConfig.criteriaList}; empty for none. */
  List<AbortCriterion> abortCriteria = new ArrayList<>();

  /** {@code jobExecutionsRetryConfig.criteriaList}; empty for none. */
  List<RetryCriterion> retryCriteria = new ArrayList<>();

  long createdAt;

  // ------------------------------------------------------------------ progress

  String status = IN_PROGRESS;
  long lastUpdatedAt;
  Long completedAt;
  boolean forceCanceled;
  String reasonCode;
  String comment;

  /** Until when the rollout has accrued its credit (epoch ms). */
  long rolloutLast;

  /**
   * Executions the rollout may deliver now: grows by the rate per minute as the clock runs, at most
   * one minute's worth, and shrinks by one per delivery. Starts at 1: the first goes at once.
   */
  double rolloutCredit = 1;

  /**
   * The rollout configuration. {@code maximumPerMinute} caps the rate; with {@code
   * baseRatePerMinute} the rate starts there and is multiplied by {@code incrementFactor} each time
   * another {@code numberOfNotifiedThings} things were notified (or {@code numberOfSucceededThings}
   * succeeded).
   */
  record Rollout(
      int maximumPerMinute,
      Integer baseRatePerMinute,
      Double incrementFactor,
      Integer numberOfNotifiedThings,
      Integer numberOfSucceededThings) {

    boolean exponential() {
      return baseRatePerMinute != null;
    }
  }

  /** One {@code abortConfig.criteriaList} entry; the action is always CANCEL. */
  record AbortCriterion(
      String failureType,
      String action,
      double thresholdPercentage,
      int minNumberOfExecutedThings) {}

  /** One {@code jobExecutionsRetryConfig.criteriaList} entry. */
  record RetryCriterion(String failureType, int numberOfRetries) {}

  /** The job's progress as one small log record (the definition is logged once, at creation). */
  record Progress(
      String jobId,
      String status,
      long lastUpdatedAt,
      Long completedAt,
      boolean forceCanceled,
      String reasonCode,
      String comment,
      long rolloutLast,
      double rolloutCredit) {

    static Progress of(Job j) {
      return new Progress(
          j.jobId,
          j.status,
          j.lastUpdatedAt,
          j.completedAt,
          j.forceCanceled,
          j.reasonCode,
          j.comment,
          j.rolloutLast,
          j.rolloutCredit);
    }

    void applyTo(Job j) {
      j.status = status;
      j.lastUpdatedAt = lastUpdatedAt;
      j.completedAt = completedAt;
      j.forceCanceled = forceCanceled;
      j.reasonCode = reasonCode;
      j.comment = comment;
      j.rolloutLast = rolloutLast;
      j.rolloutCredit = rolloutCredit;
    }
  }
}
