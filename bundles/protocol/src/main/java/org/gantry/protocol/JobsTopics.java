package org.gantry.protocol;

import java.util.List;
import java.util.Objects;

/**
 * The jobs topics of one thing, all under {@code $aws/things/{thingName}/jobs/}. Immutable and
 * thread-safe.
 */
public final class JobsTopics {
  /** The job id that names the head of the queue, valid in {@link #describe} only. */
  public static final String NEXT = "$next";

  static final String PREFIX = "$aws/things/";
  static final String JOBS = "/jobs";

  private final String thingName;
  private final String base;

  /**
   * @param thingName 1-128 chars of {@code [a-zA-Z0-9:_-]}
   * @throws IllegalArgumentException when the thing name is not valid
   */
  public JobsTopics(String thingName) {
    if (!Limits.isValidThingName(thingName)) {
      throw new IllegalArgumentException(
          "thingName "
              + (thingName == null ? "null" : Limits.quote(thingName))
              + " is not valid: it must be 1-128 characters of [a-zA-Z0-9:_-].");
    }
    this.thingName = thingName;
    this.base = PREFIX + thingName + JOBS + "/";
  }

  /**
   * @return the thing these topics belong to
   */
  public String thingName() {
    return thingName;
  }

  /**
   * @return {@code $aws/things/T/jobs/get}: list pending executions
   */
  public String getPending() {
    return base + "get";
  }

  /**
   * @return {@code $aws/things/T/jobs/start-next}
   */
  public String startNext() {
    return base + "start-next";
  }

  /**
   * @param jobId a valid job id or {@link #NEXT}
   * @return {@code $aws/things/T/jobs/{jobId}/get}
   * @throws IllegalArgumentException when the job id is not valid
   */
  public String describe(String jobId) {
    if (!NEXT.equals(jobId)) {
      requireJobId(jobId);
    }
    return base + jobId + "/get";
  }

  /**
   * @param jobId a valid job id ({@code $next} is not allowed here)
   * @return {@code $aws/things/T/jobs/{jobId}/update}
   * @throws IllegalArgumentException when the job id is not valid
   */
  public String update(String jobId) {
    requireJobId(jobId);
    return base + jobId + "/update";
  }

  /**
   * The notify topic. Named {@code notifyTopic} because {@link Object#notify()} is final.
   *
   * @return {@code $aws/things/T/jobs/notify}
   */
  public String notifyTopic() {
    return base + "notify";
  }

  /**
   * @return {@code $aws/things/T/jobs/notify-next}
   */
  public String notifyNext() {
    return base + "notify-next";
  }

  /**
   * @param requestTopic a request topic
   * @return {@code requestTopic + "/accepted"}
   */
  public static String accepted(String requestTopic) {
    return Objects.requireNonNull(requestTopic, "requestTopic") + "/accepted";
  }

  /**
   * @param requestTopic a request topic
   * @return {@code requestTopic + "/rejected"}
   */
  public static String rejected(String requestTopic) {
    return Objects.requireNonNull(requestTopic, "requestTopic") + "/rejected";
  }

  /**
   * The filters a device that sends only describe ({@code {jobId}/get}, {@code $next/get}) and
   * update requests needs: notify-next and those requests' answers (Gantry's engine adds {@code
   * start-next/+}, the answers of the start-next it sends with a terminal status). Unlike {@link
   * #deviceSubscriptions()} it leaves out {@code notify} (the pending list, sent after every change
   * of it) and the answers to {@code get} and {@code start-next}: each would be one more message
   * per change for the gateway to receive and drop (and, on AWS IoT Core, to be billed for). None
   * of these filters matches a request of the device itself.
   *
   * @return notify-next, {@code +/get/+}, {@code +/update/+}, each under this thing's jobs prefix;
   *     unmodifiable
   * @since 1.1
   */
  public List<String> describeAndUpdateSubscriptions() {
    return List.of(notifyNext(), base + "+/get/+", base + "+/update/+");
  }

  /**
   * The filters a gateway subscribes to, and waits for the SUBACK of, before its first request: an
   * ordinary MQTT broker, unlike AWS IoT Core, delivers no answer to a client that did not
   * subscribe. Note that {@code jobs/get/+} and {@code jobs/start-next/+} also match the describe
   * request of a job named {@code get} or {@code start-next}: on an ordinary broker a gateway may
   * see its own request, so it should act only on {@link JobsTopic.Answer#ACCEPTED} and {@link
   * JobsTopic.Answer#REJECTED} topics and notifications.
   *
   * @return notify-next, notify, {@code get/+}, {@code start-next/+}, {@code +/get/+}, {@code
   *     +/update/+}, each under this thing's jobs prefix; unmodifiable
   */
  public List<String> deviceSubscriptions() {
    return List.of(
        notifyNext(),
        notifyTopic(),
        base + "get/+",
        base + "start-next/+",
        base + "+/get/+",
        base + "+/update/+");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JobsTopics && ((JobsTopics) o).thingName.equals(thingName);
  }

  @Override
  public int hashCode() {
    return thingName.hashCode();
  }

  @Override
  public String toString() {
    return "JobsTopics[" + thingName + "]";
  }

  private static void requireJobId(String jobId) {
    if (!Limits.isValidJobId(jobId)) {
      throw new IllegalArgumentException(
          "jobId "
              + (jobId == null ? "null" : Limits.quote(jobId))
              + " is not valid: it must be 1-64 characters of [a-zA-Z0-9_-].");
    }
  }
}
