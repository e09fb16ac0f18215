package org.gantry.protocol;

import java.util.Objects;
import java.util.Optional;

/**
 * One parsed jobs topic.
 *
 * @param thingName a valid thing name
 * @param jobId the job for {@link Kind#DESCRIBE} (a valid job id or {@code $next}) and {@link
 *     Kind#UPDATE} (a valid job id); null for every other kind
 * @param kind which request or notification
 * @param answer {@link Answer#REQUEST} for a request or a notification; ACCEPTED or REJECTED for an
 *     answer (notifications have no answers)
 */
public record JobsTopic(String thingName, String jobId, Kind kind, Answer answer) {

  /** The request or notification a topic belongs to. */
  public enum Kind {
    GET_PENDING,
    START_NEXT,
    DESCRIBE,
    UPDATE,
    NOTIFY,
    NOTIFY_NEXT
  }

  /** Whether a topic is the request itself or one of its answers. */
  public enum Answer {
    REQUEST,
    ACCEPTED,
    REJECTED
  }

  /**
   * @throws IllegalArgumentException when the parts do not make a jobs topic
   */
  public JobsTopic {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(answer, "answer");
    String why = problem(thingName, jobId, kind, answer);
    if (why != null) {
      throw new IllegalArgumentException(why);
    }
  }

  /**
   * The topic text, so that {@code parse(t).get().topic().equals(t)}.
   *
   * @return for example {@code $aws/things/T/jobs/j1/update/accepted}
   */
  public String topic() {
    JobsTopics t = new JobsTopics(thingName);
    String request;
    switch (kind) {
      case GET_PENDING:
        request = t.getPending();
        break;
      case START_NEXT:
        request = t.startNext();
        break;
      case DESCRIBE:
        request = t.describe(jobId);
        break;
      case UPDATE:
        request = t.update(jobId);
        break;
      case NOTIFY:
        request = t.notifyTopic();
        break;
      case NOTIFY_NEXT:
        request = t.notifyNext();
        break;
      default:
        throw new AssertionError(kind);
    }
    switch (answer) {
      case ACCEPTED:
        return JobsTopics.accepted(request);
      case REJECTED:
        return JobsTopics.rejected(request);
      default:
        return request;
    }
  }

  /**
   * Whether a topic lies under some thing's jobs prefix, {@code $aws/things/+/jobs/}. A topic for
   * which this is true but {@link #parse} is empty is one a service answers with InvalidTopic.
   *
   * @param topic any topic; may be null
   * @return true for {@code $aws/things/<one level>/jobs/<anything>}
   */
  public static boolean isJobsTopic(String topic) {
    if (topic == null || !topic.startsWith(JobsTopics.PREFIX)) {
      return false;
    }
    int slash = topic.indexOf('/', JobsTopics.PREFIX.length());
    return slash > JobsTopics.PREFIX.length() && topic.startsWith(JobsTopics.JOBS + "/", slash);
  }

  /**
   * Parses a jobs topic of any thing.
   *
   * @param topic any topic; may be null
   * @return the topic, or empty when it is not a known jobs topic or its thing name or job id is
   *     not valid ({@code $next} is valid for DESCRIBE only)
   */
  public static Optional<JobsTopic> parse(String topic) {
    if (!isJobsTopic(topic)) {
      return Optional.empty();
    }
    int slash = topic.indexOf('/', JobsTopics.PREFIX.length());
    String thing = topic.substring(JobsTopics.PREFIX.length(), slash);
    String[] rest = topic.substring(slash + JobsTopics.JOBS.length() + 1).split("/", -1);
    int n = rest.length;
    Answer answer = Answer.REQUEST;
    if (n >= 2 && rest[n - 1].equals("accepted")) {
      answer = Answer.ACCEPTED;
      n--;
    } else if (n >= 2 && rest[n - 1].equals("rejected")) {
      answer = Answer.REJECTED;
      n--;
    }
    String jobId = null;
    Kind kind;
    if (n == 1) {
      switch (rest[0]) {
        case "get":
          kind = Kind.GET_PENDING;
          break;
        case "start-next":
          kind = Kind.START_NEXT;
          break;
        case "notify":
          kind = Kind.NOTIFY;
          break;
        case "notify-next":
          kind = Kind.NOTIFY_NEXT;
          break;
        default:
          return Optional.empty();
      }
    } else if (n == 2 && rest[1].equals("get")) {
      kind = Kind.DESCRIBE;
      jobId = rest[0];
    } else if (n == 2 && rest[1].equals("update")) {
      kind = Kind.UPDATE;
      jobId = rest[0];
    } else {
      return Optional.empty();
    }
    if (problem(thing, jobId, kind, answer) != null) {
      return Optional.empty();
    }
    return Optional.of(new JobsTopic(thing, jobId, kind, answer));
  }

  private static String problem(String thingName, String jobId, Kind kind, Answer answer) {
    if (!Limits.isValidThingName(thingName)) {
      return "thingName is not valid: it must be 1-128 characters of [a-zA-Z0-9:_-].";
    }
    switch (kind) {
      case DESCRIBE:
        if (!JobsTopics.NEXT.equals(jobId) && !Limits.isValidJobId(jobId)) {
          return "jobId is not valid: it must be $next or 1-64 characters of [a-zA-Z0-9_-].";
        }
        break;
      case UPDATE:
        if (!Limits.isValidJobId(jobId)) {
          return "jobId is not valid: it must be 1-64 characters of [a-zA-Z0-9_-].";
        }
        break;
      default:
        if (jobId != null) {
          return "jobId must be null for " + kind + " topics.";
        }
    }
    if ((kind == Kind.NOTIFY || kind == Kind.NOTIFY_NEXT) && answer != Answer.REQUEST) {
      return kind + " topics have no answers; answer must be REQUEST.";
    }
    return null;
  }
}
