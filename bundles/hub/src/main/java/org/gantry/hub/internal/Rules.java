package org.gantry.hub.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.gantry.protocol.ExecutionStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The AWS IoT Jobs control-plane rules, applied to a {@link HubState}: queuing executions for
 * targets (snapshot and continuous), the rollout rate, timeouts, retries, abort and cancel, and
 * when a snapshot job is complete. Readings where PROTOCOL.md leaves room are in the README. Runs
 * on the hub thread inside a {@link HubCore#change}.
 */
final class Rules {
  static final long MINUTE = 60_000L;
  private static final Logger LOG = LoggerFactory.getLogger(Rules.class);

  private Rules() {}

  // ------------------------------------------------------------------ targets

  /** The things a job targets now: its things and the things of its groups (nested included). */
  static Set<String> targetThings(HubState s, Job job) {
    Set<String> out = new LinkedHashSet<>(job.targets);
    for (String g : job.groupTargets) {
      out.addAll(s.thingsIn(g));
    }
    return out;
  }

  /** Whether a job targets a thing, directly or through one of its groups. */
  static boolean targets(HubState s, Job job, String thing) {
    if (job.targets.contains(thing)) {
      return true;
    }
    if (job.groupTargets.isEmpty()) {
      return false;
    }
    Set<String> groups = s.groupsWithAncestors(thing);
    for (String g : job.groupTargets) {
      if (groups.contains(g)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Queues a new execution of a job on a thing. Without a rollout it is delivered at once;
   * otherwise it waits until the rollout releases it.
   */
  static Execution queue(HubState s, Job job, String thing, long now, ExecutionStatus retryOf) {
    Execution latest = s.execution(thing, job.jobId, null);
    Execution e = new Execution();
    e.jobId = job.jobId;
    e.thingName = thing;
    e.executionNumber = latest == null ? 1 : latest.executionNumber + 1;
    e.queuedAt = now;
    e.lastUpdatedAt = now;
    e.retryOf = retryOf;
    // A retry goes to a thing the rollout has already notified: it is not held back again.
    if (job.rollout == null || retryOf != null) {
      e.releasedAt = now;
      e.queueSeq = s.nextSeq();
    } else if (s.nextUnreleased(job.jobId) == null && job.rolloutLast < now) {
      // The rollout had nothing left to deliver (a continuous job between new members): it starts
      // again from now, with the first delivery at once, as at creation.
      job.rolloutLast = now;
      job.rolloutCredit = Math.max(job.rolloutCredit, 1);
      s.touch(job);
    }
    s.add(e);
    return e;
  }

  /** Whether a thing has an execution of the job that is not over yet. */
  static boolean hasPending(HubState s, String jobId, String thing) {
    Execution latest = s.execution(thing, jobId, null);
    return latest != null && !latest.status.isTerminal();
  }

  /**
   * A thing joined a group: each CONTINUOUS job that now targets it, and did not before, gets an
   * execution on it (unless one is still pending).
   *
   * @param before the groups (with ancestors) the thing was in before it joined
   */
  static void joined(HubState s, String thing, Set<String> before, long now) {
    for (Job job : s.jobs()) {
      if (!Job.CONTINUOUS.equals(job.targetSelection) || !Job.IN_PROGRESS.equals(job.status)) {
        continue;
      }
      boolean was =
          job.targets.contains(thing) || job.groupTargets.stream().anyMatch(before::contains);
      if (!was && targets(s, job, thing) && !hasPending(s, job.jobId, thing)) {
        Execution e = queue(s, job, thing, now, null);
        log(
            job.jobId,
            thing,
            "Thing {} joined a target group of continuous job {}: execution {}",
            thing,
            job.jobId,
            e.executionNumber);
      }
    }
  }

  /**
   * A thing left a group: its QUEUED executions of CONTINUOUS jobs that no longer target it become
   * REMOVED; one that is IN_PROGRESS runs on.
   */
  static void left(HubState s, String thing, long now) {
    for (Execution e : s.executionsOn(thing)) {
      Job job = s.job(e.jobId);
      if (e.status == ExecutionStatus.QUEUED
          && Job.CONTINUOUS.equals(job.targetSelection)
          && !targets(s, job, thing)) {
        serviceStatus(s, e, ExecutionStatus.REMOVED, now);
        log(
            job.jobId,
            thing,
            "Thing {} left the targets of job {}: execution {} REMOVED",
            thing,
            job.jobId,
            e.executionNumber);
      }
    }
  }

  /** Things with an execution of the job that a device can see pending (for notifications). */
  static Set<String> pendingThings(HubState s, String jobId) {
    Set<String> out = new LinkedHashSet<>();
    for (Execution e : s.executionsOf(jobId)) {
      if (!e.status.isTerminal()) {
        out.add(e.thingName);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ device transitions

  /** QUEUED to IN_PROGRESS: the in-progress timer starts, and the step timer if one is asked. */
  static void start(HubState s, Execution e, Long stepTimeoutInMinutes, long now) {
    s.setStatus(e, ExecutionStatus.IN_PROGRESS);
    e.startedAt = now;
    e.timeoutAt = null;
    arm(s, e, stepTimeoutInMinutes, now);
  }

  /**
   * Sets the execution's timeout: a step timer (when asked) replaces the one before it, and no
   * timer runs past the job's in-progress limit.
   */
  static void arm(HubState s, Execution e, Long stepTimeoutInMinutes, long now) {
    Job job = s.job(e.jobId);
    Long limit =
        job.inProgressTimeoutInMinutes == null || e.startedAt == null
            ? null
            : e.startedAt + job.inProgressTimeoutInMinutes * MINUTE;
    if (stepTimeoutInMinutes != null) {
      e.stepTimeoutInMinutes = stepTimeoutInMinutes;
      long step = now + stepTimeoutInMinutes * MINUTE;
      e.timeoutAt = limit == null ? step : Math.min(step, limit);
    } else if (e.timeoutAt == null) {
      e.timeoutAt = limit;
    }
    s.touch(e);
  }

  /**
   * The execution reached a terminal status (reported by the device, or TIMED_OUT): a retry is
   * queued when the job's retry criteria allow one, and a snapshot job may now be complete. The
   * abort criteria are checked by {@link HubCore#tick} afterwards.
   */
  static void finish(HubState s, Execution e, ExecutionStatus to, long now) {
    s.setStatus(e, to);
    Job job = s.job(e.jobId);
    if ((to == ExecutionStatus.FAILED || to == ExecutionStatus.TIMED_OUT)
        && Job.IN_PROGRESS.equals(job.status)) {
      Job.RetryCriterion c = retryCriterion(job, to);
      if (c != null && retriesUsed(s, job, e.thingName, c) < c.numberOfRetries()) {
        Execution retry = queue(s, job, e.thingName, now, to);
        log(
            job.jobId,
            e.thingName,
            "Job {} on {}: execution {} {}; retry as execution {}",
            job.jobId,
            e.thingName,
            e.executionNumber,
            to,
            retry.executionNumber);
      }
    }
    completeIfDone(s, job, now);
  }

  /** The criterion that governs retries after a failure: its own type first, then ALL. */
  static Job.RetryCriterion retryCriterion(Job job, ExecutionStatus failure) {
    Job.RetryCriterion all = null;
    for (Job.RetryCriterion c : job.retryCriteria) {
      if (c.failureType().equals(failure.name())) {
        return c;
      }
      if (c.failureType().equals("ALL")) {
        all = c;
      }
    }
    return all;
  }

  private static int retriesUsed(HubState s, Job job, String thing, Job.RetryCriterion c) {
    int n = 0;
    for (Execution x : s.executionsOn(thing)) {
      if (x.jobId.equals(job.jobId)
          && x.retryOf != null
          && c.equals(retryCriterion(job, x.retryOf))) {
        n++;
      }
    }
    return n;
  }

  /** A status the service sets (TIMED_OUT, CANCELED, REMOVED): a new version of the execution. */
  static void serviceStatus(HubState s, Execution e, ExecutionStatus to, long now) {
    e.versionNumber++;
    e.lastUpdatedAt = now;
    if (to == ExecutionStatus.TIMED_OUT) {
      finish(s, e, to, now);
    } else {
      s.setStatus(e, to);
      completeIfDone(s, s.job(e.jobId), now);
    }
  }

  /** A SNAPSHOT job is COMPLETED once every thing's latest execution is over. */
  static void completeIfDone(HubState s, Job job, long now) {
    if (!Job.SNAPSHOT.equals(job.targetSelection) || !Job.IN_PROGRESS.equals(job.status)) {
      return;
    }
    if (s.counts(job.jobId).pendingThings() > 0) {
      return;
    }
    job.status = Job.COMPLETED;
    job.completedAt = now;
    job.lastUpdatedAt = now;
    s.touch(job);
    log(job.jobId, null, "Job {} completed: every execution is over", job.jobId);
  }

  // ------------------------------------------------------------------ cancel and abort

  /**
   * Cancels a job: its QUEUED executions (delivered or still waiting for the rollout) become
   * CANCELED; IN_PROGRESS ones too when forced, otherwise they run to their end.
   */
  static void cancelJob(
      HubState s, Job job, boolean force, String reasonCode, String comment, long now) {
    job.status = Job.CANCELED;
    job.forceCanceled = job.forceCanceled || force;
    job.reasonCode = reasonCode;
    job.comment = comment;
    job.lastUpdatedAt = now;
    s.touch(job);
    for (Execution e : s.executionsOf(job.jobId)) {
      if (e.status == ExecutionStatus.QUEUED
          || (force && e.status == ExecutionStatus.IN_PROGRESS)) {
        e.forceCanceled = e.status == ExecutionStatus.IN_PROGRESS;
        serviceStatus(s, e, ExecutionStatus.CANCELED, now);
      }
    }
  }

  /**
   * The first abort criterion the job now meets, or null. A criterion is met once at least {@code
   * minNumberOfExecutedThings} things were notified and the executions of its failure type reach
   * {@code thresholdPercentage} of the executions notified.
   */
  static Job.AbortCriterion abortCriterionMet(HubState s, Job job) {
    HubState.Counts c = s.counts(job.jobId);
    if (c.releasedExecutions == 0) {
      return null;
    }
    for (Job.AbortCriterion a : job.abortCriteria) {
      if (c.notifiedThings < a.minNumberOfExecutedThings()) {
        continue;
      }
      int failed =
          switch (a.failureType()) {
            case "FAILED" -> c.executions(ExecutionStatus.FAILED);
            case "REJECTED" -> c.executions(ExecutionStatus.REJECTED);
            case "TIMED_OUT" -> c.executions(ExecutionStatus.TIMED_OUT);
            default ->
                c.executions(ExecutionStatus.FAILED)
                    + c.executions(ExecutionStatus.REJECTED)
                    + c.executions(ExecutionStatus.TIMED_OUT);
          };
      if (failed * 100.0 >= a.thresholdPercentage() * c.releasedExecutions) {
        return a;
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ rollout

  /**
   * The rollout rate of a job now, in executions per minute: {@code maximumPerMinute}, or with an
   * exponential rate {@code baseRatePerMinute} multiplied by {@code incrementFactor} once for every
   * {@code numberOfNotifiedThings} things notified (or {@code numberOfSucceededThings} succeeded),
   * never above {@code maximumPerMinute}.
   */
  static int rate(HubState s, Job job) {
    Job.Rollout r = job.rollout;
    if (!r.exponential()) {
      return r.maximumPerMinute();
    }
    HubState.Counts c = s.counts(job.jobId);
    long steps =
        r.numberOfNotifiedThings() != null
            ? c.notifiedThings / r.numberOfNotifiedThings()
            : c.things(ExecutionStatus.SUCCEEDED) / r.numberOfSucceededThings();
    double rate = r.baseRatePerMinute();
    for (long i = 0; i < steps && rate < r.maximumPerMinute(); i++) {
      rate *= r.incrementFactor();
    }
    return (int) Math.max(1, Math.min(r.maximumPerMinute(), Math.floor(rate + 1e-9)));
  }

  /**
   * The executions of the job the rollout delivers now. The rollout is a credit that grows at the
   * job's rate as the clock runs (at most one minute's worth) and pays for one delivery each, so
   * any minute from the job's creation on sees {@code rate} deliveries, spread evenly. Time the
   * clock skipped while the hub ran (a stalled thread, a test's manual clock) is accrued minute by
   * minute, each at the rate of its own start, and delivered as it accrues; a rate increase applies
   * from the moment it happens, never backwards.
   *
   * @return the executions released, taken off the wait list
   */
  static List<Execution> due(HubState s, Job job, long now) {
    List<Execution> out = new ArrayList<>();
    boolean changed = false;
    while (job.rolloutLast < now) {
      long step = Math.min(now - job.rolloutLast, MINUTE);
      int rate = rate(s, job);
      job.rolloutCredit = Math.min(job.rolloutCredit + rate * (double) step / MINUTE, rate);
      job.rolloutLast += step;
      changed = true;
      if (!spend(s, job, now, out)) {
        break;
      }
    }
    changed |= spend(s, job, now, out);
    if (changed) {
      s.touch(job);
    }
    return out;
  }

  /** Delivers as many executions as the credit pays for; false when none are left to deliver. */
  private static boolean spend(HubState s, Job job, long now, List<Execution> out) {
    int n = (int) Math.floor(job.rolloutCredit + 1e-9);
    if (n > 0) {
      List<Execution> taken = s.takeUnreleased(job.jobId, n);
      for (Execution e : taken) {
        s.release(e, now);
      }
      job.rolloutCredit = Math.max(0, job.rolloutCredit - taken.size());
      out.addAll(taken);
    }
    return s.nextUnreleased(job.jobId) != null;
  }

  /**
   * After a restart, rollouts go on from now: time the hub was down is not accrued (that would
   * deliver it all at once, above the rate).
   */
  static void resumeRollouts(HubState s, long now) {
    for (String jobId : s.rollingOut()) {
      Job job = s.job(jobId);
      if (job.rolloutLast < now) {
        job.rolloutLast = now;
        s.touch(job);
      }
    }
  }

  /** Things whose executions {@link #due} may release now; the caller diffs their queues. */
  static Collection<String> thingsOf(List<Execution> executions) {
    Set<String> out = new LinkedHashSet<>();
    executions.forEach(e -> out.add(e.thingName));
    return out;
  }

  static void log(String jobId, String thing, String format, Object... args) {
    MDC.put("jobId", jobId);
    if (thing != null) {
      MDC.put("thingName", thing);
    }
    try {
      LOG.info(format, args);
    } finally {
      MDC.remove("jobId");
      MDC.remove("thingName");
    }
  }
}
