package org.gantry.launcher;

import static org.gantry.launcher.HubClient.string;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import org.gantry.launcher.CommandLine.HubCall;

/**
 * {@code gantry jobs watch JOB_ID}: polls DescribeJob every interval and shows the rollout. On an
 * ANSI terminal the view is redrawn in place; otherwise one line per refresh. Ends with exit 0 when
 * the job is COMPLETED, CANCELED or deleted, with exit 1 when the hub refuses or has not answered
 * for {@link #giveUp}.
 */
final class WatchCommand {

  /** Counts of things by the status of their latest execution ({@code jobProcessDetails}). */
  record Counts(
      long queued,
      long inProgress,
      long succeeded,
      long failed,
      long rejected,
      long timedOut,
      long canceled,
      long removed) {

    long total() {
      return queued + inProgress + done();
    }

    long done() {
      return succeeded + failed + rejected + timedOut + canceled + removed;
    }

    /** Executions that left QUEUED: what a rollout rate can be read from without rolloutStatus. */
    long started() {
      return total() - queued;
    }

    long failures(String failureType) {
      return switch (failureType) {
        case "FAILED" -> failed;
        case "REJECTED" -> rejected;
        case "TIMED_OUT" -> timedOut;
        default -> failed + rejected + timedOut;
      };
    }

    String text() {
      return "queued "
          + queued
          + ", in progress "
          + inProgress
          + ", succeeded "
          + succeeded
          + ", failed "
          + failed
          + ", rejected "
          + rejected
          + ", timed out "
          + timedOut
          + ", canceled "
          + canceled
          + ", removed "
          + removed;
    }
  }

  /** The hub's {@code rolloutStatus} (a Gantry extension of DescribeJob). */
  record RolloutStatus(
      long notifiedThings,
      long waitingExecutions,
      Optional<Double> currentRatePerMinute,
      Optional<Long> maximumPerMinute,
      long deliveredLastMinute) {}

  /** One abort criterion of the job. */
  record Criterion(String failureType, BigDecimal thresholdPercentage, long minExecuted) {}

  /** What one DescribeJob answer says, and when it came. */
  record Snapshot(
      String jobId,
      String status,
      Counts counts,
      Optional<RolloutStatus> rollout,
      Optional<Long> maximumPerMinute,
      List<Criterion> abort,
      Optional<String> reasonCode,
      Optional<String> comment,
      long nanos) {

    boolean finished() {
      return status.equals("COMPLETED") || status.equals("CANCELED");
    }
  }

  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("HH:mm:ss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final Duration RATE_WINDOW = Duration.ofMinutes(1);
  private static final int BAR = 30;

  private final PrintStream out;
  private final PrintStream err;
  private final boolean terminal;

  WatchCommand(PrintStream out, PrintStream err, boolean terminal) {
    this.out = out;
    this.err = err;
    this.terminal = terminal;
  }

  /** How long the hub may not answer before the watch gives up: 30 s or three intervals. */
  static Duration giveUp(Duration interval) {
    Duration three = interval.multipliedBy(3);
    return three.compareTo(Duration.ofSeconds(30)) > 0 ? three : Duration.ofSeconds(30);
  }

  int run(HubCall c, HubClient hub) {
    String jobId = c.args().get(0);
    Duration interval =
        Duration.ofMillis(Math.round(Double.parseDouble(c.value("--interval").orElse("2")) * 1000));
    Duration giveUp = giveUp(interval);
    Deque<Snapshot> window = new ArrayDeque<>();
    List<String> shown = List.of();
    boolean seen = false;
    long lastAnswer = System.nanoTime();
    String path = "/jobs/" + HubClient.segment(jobId);
    while (true) {
      JsonObject answer = null;
      try {
        answer = hub.request("GET", path, null, Map.of());
        lastAnswer = System.nanoTime();
      } catch (HubException e) {
        if (seen && e.is("ResourceNotFoundException")) {
          out.println("job " + jobId + " was deleted");
          out.flush();
          return Main.OK;
        }
        if (e.status() != 0) {
          return fail(OpsCommand.refusal(e, "describe job " + jobId));
        }
        if (System.nanoTime() - lastAnswer > giveUp.toNanos()) {
          return fail(
              "the hub stopped answering: no answer for "
                  + giveUp.toSeconds()
                  + " s; last: "
                  + e.getMessage());
        }
        String note = CLOCK.format(Instant.now()) + " " + e.getMessage() + "; retrying";
        if (terminal && !c.json()) {
          // the last view stays, with the note below it until the hub answers again
          List<String> withNote = new ArrayList<>(shown);
          withNote.add(note);
          out.print(screen(withNote));
        } else {
          out.println(note);
        }
        out.flush();
      }
      if (answer != null) {
        seen = true;
        Snapshot s;
        try {
          s = snapshot(answer, System.nanoTime());
        } catch (HubException e) {
          return fail(e.getMessage());
        }
        window.addLast(s);
        while (window.size() > 2
            && s.nanos() - window.peekFirst().nanos() > RATE_WINDOW.toNanos()) {
          window.removeFirst();
        }
        Optional<Double> observed = observedRate(window);
        if (c.json()) {
          out.println(answer);
        } else if (terminal) {
          shown = lines(s, observed, Instant.now());
          out.print(screen(shown));
        } else {
          out.println(oneLine(s, observed, Instant.now()));
        }
        out.flush();
        if (s.finished()) {
          if (!c.json()) {
            out.println(summary(s));
            out.flush();
          }
          return Main.OK;
        }
      }
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail("interrupted");
      }
    }
  }

  /**
   * The terminal view: cursor home, each line erased to its end, the rest of the screen erased.
   * Drawing from the top of the screen (as watch(1) does) stays right when a line is wider than the
   * terminal and wraps, which moving the cursor up by a line count would not.
   */
  static String screen(List<String> lines) {
    StringBuilder sb = new StringBuilder("\033[H");
    for (String line : lines) {
      sb.append(line).append("\033[K\n");
    }
    return sb.append("\033[J").toString();
  }

  private int fail(String message) {
    err.println("gantry: " + message);
    err.flush();
    return Main.FAILED;
  }

  /** Executions that left QUEUED per minute over the window, when the window spans some time. */
  static Optional<Double> observedRate(Deque<Snapshot> window) {
    if (window.size() < 2) {
      return Optional.empty();
    }
    Snapshot first = window.peekFirst();
    Snapshot last = window.peekLast();
    double minutes = (last.nanos() - first.nanos()) / 60e9;
    if (minutes <= 0) {
      return Optional.empty();
    }
    return Optional.of(Math.max(0, last.counts().started() - first.counts().started()) / minutes);
  }

  /** Reads a DescribeJob answer. */
  static Snapshot snapshot(JsonObject answer, long nanos) throws HubException {
    JsonObject job = HubClient.object(answer, "job");
    JsonObject d = child(job, "jobProcessDetails");
    Counts counts =
        new Counts(
            HubClient.number(d, "numberOfQueuedThings"),
            HubClient.number(d, "numberOfInProgressThings"),
            HubClient.number(d, "numberOfSucceededThings"),
            HubClient.number(d, "numberOfFailedThings"),
            HubClient.number(d, "numberOfRejectedThings"),
            HubClient.number(d, "numberOfTimedOutThings"),
            HubClient.number(d, "numberOfCanceledThings"),
            HubClient.number(d, "numberOfRemovedThings"));
    Optional<RolloutStatus> rollout = Optional.empty();
    JsonElement r = job.get("rolloutStatus");
    if (r != null && r.isJsonObject()) {
      JsonObject o = r.getAsJsonObject();
      rollout =
          Optional.of(
              new RolloutStatus(
                  HubClient.number(o, "notifiedThings"),
                  HubClient.number(o, "waitingExecutions"),
                  optionalDecimal(o, "currentRatePerMinute"),
                  optionalDecimal(o, "maximumPerMinute").map(Math::round),
                  HubClient.number(o, "deliveredLastMinute")));
    }
    JsonObject rc = child(job, "jobExecutionsRolloutConfig");
    Optional<Long> max =
        rc.has("maximumPerMinute")
            ? Optional.of(HubClient.number(rc, "maximumPerMinute"))
            : Optional.empty();
    List<Criterion> abort = new ArrayList<>();
    JsonElement list = child(job, "abortConfig").get("criteriaList");
    if (list != null && list.isJsonArray()) {
      for (JsonElement e : list.getAsJsonArray()) {
        if (e.isJsonObject()) {
          JsonObject o = e.getAsJsonObject();
          abort.add(
              new Criterion(
                  string(o, "failureType").orElse("ALL"),
                  BigDecimal.valueOf(decimal(o, "thresholdPercentage")),
                  HubClient.number(o, "minNumberOfExecutedThings")));
        }
      }
    }
    return new Snapshot(
        string(job, "jobId").orElse("?"),
        string(job, "status").orElse("?"),
        counts,
        rollout,
        max,
        abort,
        string(job, "reasonCode"),
        string(job, "comment"),
        nanos);
  }

  private static JsonObject child(JsonObject o, String field) {
    JsonElement e = o.get(field);
    return e != null && e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
  }

  /** A number, or empty when absent or null (rolloutStatus of a job without a rollout). */
  private static Optional<Double> optionalDecimal(JsonObject o, String field) {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      return Optional.empty();
    }
    return Optional.of(e.getAsDouble());
  }

  private static double decimal(JsonObject o, String field) {
    JsonElement e = o.get(field);
    try {
      return e != null && e.isJsonPrimitive() ? e.getAsDouble() : 0;
    } catch (NumberFormatException x) {
      return 0;
    }
  }

  /** The rate part: the hub's figures when it gives them, else those computed from the polls. */
  static String rate(Snapshot s, Optional<Double> observed) {
    String limit =
        s.rollout()
            .flatMap(RolloutStatus::maximumPerMinute)
            .or(s::maximumPerMinute)
            .map(m -> m + "/min")
            .orElse("none");
    if (s.rollout().isPresent()) {
      RolloutStatus r = s.rollout().get();
      return "rate "
          + r.currentRatePerMinute().map(v -> rateText(v) + "/min").orElse("unlimited")
          + " now, limit "
          + limit
          + "; delivered "
          + r.deliveredLastMinute()
          + " in the last minute; notified "
          + r.notifiedThings()
          + ", waiting "
          + r.waitingExecutions();
    }
    return "rate "
        + observed.map(v -> rateText(v) + "/min").orElse("-")
        + " observed (executions leaving QUEUED), limit "
        + limit
        + "; started "
        + s.counts().started()
        + ", queued "
        + s.counts().queued();
  }

  private static String rateText(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /** One line per abort criterion: its threshold against the current failure percentage. */
  static List<String> abortLines(Snapshot s) {
    List<String> lines = new ArrayList<>();
    long notified = s.rollout().map(RolloutStatus::notifiedThings).orElse(s.counts().total());
    for (Criterion k : s.abort()) {
      long failures = s.counts().failures(k.failureType());
      double now = notified == 0 ? 0 : failures * 100.0 / notified;
      lines.add(
          k.failureType()
              + " >= "
              + Format.percent(k.thresholdPercentage().doubleValue())
              + " once "
              + k.minExecuted()
              + " notified: now "
              + Format.percent(now)
              + " ("
              + failures
              + " of "
              + notified
              + ")"
              + (notified < k.minExecuted() ? ", minimum not reached" : ""));
    }
    return lines;
  }

  /** The view for a terminal, redrawn in place. */
  static List<String> lines(Snapshot s, Optional<Double> observed, Instant now) {
    List<String> lines = new ArrayList<>();
    Counts n = s.counts();
    lines.add("job " + s.jobId() + "  " + s.status() + "  at " + CLOCK.format(now));
    lines.add(
        "progress    "
            + Format.bar(n.done(), n.total(), BAR)
            + " "
            + n.done()
            + " of "
            + n.total()
            + " done ("
            + Format.percent(n.total() == 0 ? 0 : n.done() * 100.0 / n.total())
            + ")");
    lines.add("executions  " + n.text());
    lines.add("rollout     " + rate(s, observed));
    for (String a : abortLines(s)) {
      lines.add("abort       " + a);
    }
    reason(s).ifPresent(r -> lines.add("canceled    " + r));
    return lines;
  }

  /** The view as one line, for a pipe or a CI log. */
  static String oneLine(Snapshot s, Optional<Double> observed, Instant now) {
    Counts n = s.counts();
    StringJoiner j = new StringJoiner(" | ");
    j.add(
        CLOCK.format(now)
            + " job "
            + s.jobId()
            + " "
            + s.status()
            + " "
            + n.done()
            + "/"
            + n.total()
            + " done");
    j.add(n.text());
    j.add(rate(s, observed));
    for (String a : abortLines(s)) {
      j.add("abort " + a);
    }
    reason(s).ifPresent(r -> j.add("canceled " + r));
    return j.toString();
  }

  /** The last line: the outcome. */
  static String summary(Snapshot s) {
    Counts n = s.counts();
    return "job "
        + s.jobId()
        + " "
        + s.status()
        + ": "
        + n.done()
        + " of "
        + n.total()
        + " things done; "
        + n.text()
        + reason(s).map(r -> "; " + r).orElse("");
  }

  private static Optional<String> reason(Snapshot s) {
    if (s.reasonCode().isEmpty() && s.comment().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(s.reasonCode().orElse("-") + s.comment().map(c -> ": " + c).orElse(""));
  }

  /** The job's rollout, abort, timeout and retry configuration, one line each, for describe. */
  static List<String> configurationLines(JsonObject job) {
    List<String> lines = new ArrayList<>();
    JsonObject rc = child(job, "jobExecutionsRolloutConfig");
    if (rc.size() > 0) {
      StringBuilder sb = new StringBuilder("rollout: ");
      if (rc.has("maximumPerMinute")) {
        sb.append("at most ").append(HubClient.number(rc, "maximumPerMinute")).append("/min");
      }
      JsonObject e = child(rc, "exponentialRate");
      if (e.size() > 0) {
        JsonObject k = child(e, "rateIncreaseCriteria");
        sb.append(rc.has("maximumPerMinute") ? ", " : "")
            .append("exponential from ")
            .append(HubClient.number(e, "baseRatePerMinute"))
            .append("/min x ")
            .append(string(e, "incrementFactor").orElse("?"))
            .append(
                k.has("numberOfNotifiedThings")
                    ? " every " + HubClient.number(k, "numberOfNotifiedThings") + " notified"
                    : " every " + HubClient.number(k, "numberOfSucceededThings") + " succeeded");
      }
      lines.add(sb.toString());
    }
    JsonElement abort = child(job, "abortConfig").get("criteriaList");
    if (abort != null && abort.isJsonArray()) {
      for (JsonElement e : abort.getAsJsonArray()) {
        JsonObject o = e.getAsJsonObject();
        lines.add(
            "abort: "
                + string(o, "action").orElse("CANCEL")
                + " when "
                + string(o, "failureType").orElse("?")
                + " >= "
                + Format.percent(decimal(o, "thresholdPercentage"))
                + " once "
                + HubClient.number(o, "minNumberOfExecutedThings")
                + " notified");
      }
    }
    JsonObject timeout = child(job, "timeoutConfig");
    if (timeout.has("inProgressTimeoutInMinutes")) {
      lines.add(
          "timeout: "
              + HubClient.number(timeout, "inProgressTimeoutInMinutes")
              + " min in progress");
    }
    JsonElement retry = child(job, "jobExecutionsRetryConfig").get("criteriaList");
    if (retry != null && retry.isJsonArray()) {
      for (JsonElement e : retry.getAsJsonArray()) {
        JsonObject o = e.getAsJsonObject();
        long n = HubClient.number(o, "numberOfRetries");
        lines.add(
            "retry: "
                + string(o, "failureType").orElse("?")
                + ", at most "
                + n
                + (n == 1 ? " retry" : " retries"));
      }
    }
    JsonObject presigned = child(job, "presignedUrlConfig");
    if (presigned.has("expiresInSec")) {
      lines.add("presigned URLs: valid " + HubClient.number(presigned, "expiresInSec") + " s");
    }
    return lines;
  }
}
