package org.gantry.hub.internal;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.DescribeRequest;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.GetPendingAccepted;
import org.gantry.protocol.GetPendingRequest;
import org.gantry.protocol.JobExecutionState;
import org.gantry.protocol.JobExecutionSummary;
import org.gantry.protocol.JobsTopic;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.Limits;
import org.gantry.protocol.ProtocolException;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.StartNextAccepted;
import org.gantry.protocol.StartNextRequest;
import org.gantry.protocol.UpdateAccepted;
import org.gantry.protocol.UpdateRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The device-facing AWS IoT Jobs MQTT API of PROTOCOL.md: takes one message published under {@code
 * $aws/things/+/jobs/} and returns the answer and notifications to publish. Runs on the hub thread;
 * every change is stored before its answer exists.
 */
final class DeviceApi {
  /** PROTOCOL.md: a get answer lists at most 10 executions of each kind. */
  static final int GET_LIMIT = 10;

  private static final Logger LOG = LoggerFactory.getLogger(DeviceApi.class);
  private static final String PREFIX = "$aws/things/";

  private final HubCore core;

  DeviceApi(HubCore core) {
    this.core = core;
  }

  /** What a topic under {@code $aws/things/+/jobs/} is to the hub. */
  private record Route(JobsTopic request, ErrorCode error, String why) {}

  /**
   * Handles one message. Answers, notifications and the hub's own echoes are ignored (the hub sees
   * its own publications because it subscribes to {@code $aws/things/+/jobs/#}).
   *
   * @return the messages to publish, answer first; empty when the message is not a request
   */
  List<Outbound> handle(String topic, byte[] payload) {
    Route route = route(topic);
    if (route == null) {
      return List.of();
    }
    List<Outbound> out = new ArrayList<>();
    long now = core.nowMillis();
    if (route.error() != null) {
      LOG.info("Rejected a message on {}: {} {}", Texts.clip(topic), route.error(), route.why());
      out.add(reject(topic, route.error(), route.why(), tokenOf(payload), null, now));
      return out;
    }
    JobsTopic t = route.request();
    MDC.put("thingName", t.thingName());
    if (t.jobId() != null) {
      MDC.put("jobId", t.jobId());
    }
    try {
      byte[] body = payload.length == 0 ? "{}".getBytes(StandardCharsets.UTF_8) : payload;
      switch (t.kind()) {
        case GET_PENDING -> getPending(topic, t, body, now, out);
        case START_NEXT -> startNext(topic, t, body, now, out);
        case DESCRIBE -> describe(topic, t, body, now, out);
        case UPDATE -> update(topic, t, body, now, out);
        default -> throw new IllegalStateException("route() lets only requests through");
      }
    } catch (ProtocolException e) {
      LOG.info("Rejected a request on {}: {} {}", topic, e.code().wireName(), e.getMessage());
      out.add(0, reject(topic, e.code(), e.getMessage(), tokenOf(payload), null, now));
    } finally {
      MDC.remove("thingName");
      MDC.remove("jobId");
    }
    return out;
  }

  /**
   * The answer to a request whose batch could not be stored: InternalError (none for what is not a
   * request).
   */
  List<Outbound> notStored(String topic, byte[] payload, String message) {
    Route route = route(topic);
    if (route == null || route.request() == null) {
      return List.of();
    }
    return List.of(
        reject(topic, ErrorCode.INTERNAL_ERROR, message, tokenOf(payload), null, core.nowMillis()));
  }

  // ------------------------------------------------------------------ topics

  /**
   * Sorts a topic: null for what the hub does not answer (answers, notifications, anything outside
   * a thing's jobs topics); otherwise a request, or the error it is answered with. A topic that is
   * not one of the four requests is InvalidTopic; a request whose thing name or job id breaks the
   * service limits is InvalidRequest.
   */
  static Route route(String topic) {
    if (topic == null || !topic.startsWith(PREFIX)) {
      return null;
    }
    String[] parts = topic.substring(PREFIX.length()).split("/", -1);
    if (parts.length < 3 || !parts[1].equals("jobs")) {
      return null;
    }
    String last = parts[parts.length - 1];
    if (last.equals("accepted") || last.equals("rejected")) {
      return null;
    }
    int n = parts.length - 2;
    String first = parts[2];
    if (n == 1 && (first.equals("notify") || first.equals("notify-next"))) {
      return null;
    }
    String thing = parts[0];
    String jobId = null;
    boolean describe = false;
    if (n == 1 && (first.equals("get") || first.equals("start-next"))) {
      // get, start-next
    } else if (n == 2 && (parts[3].equals("get") || parts[3].equals("update"))) {
      jobId = first;
      describe = parts[3].equals("get");
    } else {
      return new Route(
          null,
          ErrorCode.INVALID_TOPIC,
          "The topic is not a jobs request: use get, start-next, {jobId}/get or {jobId}/update.");
    }
    if (!Limits.isValidThingName(thing)) {
      return new Route(
          null,
          ErrorCode.INVALID_REQUEST,
          "The thing name in the topic is not valid: it must be 1-128 characters of"
              + " [a-zA-Z0-9:_-].");
    }
    if (jobId != null
        && !Limits.isValidJobId(jobId)
        && !(describe && JobsTopics.NEXT.equals(jobId))) {
      return new Route(
          null,
          ErrorCode.INVALID_REQUEST,
          "The job id in the topic is not valid: it must be 1-64 characters of [a-zA-Z0-9_-]"
              + (describe ? " or $next." : "."));
    }
    return JobsTopic.parse(topic)
        .map(t -> new Route(t, null, null))
        .orElseGet(
            () -> new Route(null, ErrorCode.INVALID_TOPIC, "The topic is not a jobs request."));
  }

  // ------------------------------------------------------------------ requests

  private void getPending(String topic, JobsTopic t, byte[] body, long now, List<Outbound> out)
      throws ProtocolException {
    GetPendingRequest r = core.codec().decode(body, GetPendingRequest.class);
    List<JobExecutionSummary> inProgress = new ArrayList<>();
    List<JobExecutionSummary> queued = new ArrayList<>();
    for (Execution e : core.state().pending(t.thingName())) {
      List<JobExecutionSummary> into =
          e.status == ExecutionStatus.IN_PROGRESS ? inProgress : queued;
      if (into.size() < GET_LIMIT) {
        into.add(HubCore.summary(e));
      }
    }
    out.add(
        accept(
            topic,
            new GetPendingAccepted(inProgress, queued, HubCore.seconds(now), r.clientToken())));
  }

  private void startNext(String topic, JobsTopic t, byte[] body, long now, List<Outbound> out)
      throws ProtocolException {
    StartNextRequest r = core.codec().decode(body, StartNextRequest.class);
    checkDetails(r.statusDetails());
    Execution head = core.state().head(t.thingName());
    if (head == null) {
      out.add(accept(topic, new StartNextAccepted(null, HubCore.seconds(now), r.clientToken())));
      return;
    }
    MDC.put("jobId", head.jobId);
    if (head.status == ExecutionStatus.QUEUED) {
      List<Outbound> notes = new ArrayList<>();
      core.change(
          notes,
          s -> {
            Rules.start(s, head, r.stepTimeoutInMinutes(), now);
            head.lastUpdatedAt = now;
            head.versionNumber++;
            if (r.statusDetails() != null) {
              head.statusDetails = new LinkedHashMap<>(r.statusDetails());
            }
            s.touch(head);
            return null;
          });
      LOG.info(
          "Job {} started on {} (execution {}, version {})",
          head.jobId,
          head.thingName,
          head.executionNumber,
          head.versionNumber);
      out.add(accept(topic, startNextAccepted(head, now, r)));
      out.addAll(notes);
    } else {
      // Already IN_PROGRESS (the device restarted): AWS hands it back unchanged.
      out.add(accept(topic, startNextAccepted(head, now, r)));
    }
  }

  private StartNextAccepted startNextAccepted(Execution e, long now, StartNextRequest r) {
    return new StartNextAccepted(core.wire(e, true, true), HubCore.seconds(now), r.clientToken());
  }

  private void describe(String topic, JobsTopic t, byte[] body, long now, List<Outbound> out)
      throws ProtocolException {
    DescribeRequest r = core.codec().decode(body, DescribeRequest.class);
    Execution e;
    if (JobsTopics.NEXT.equals(t.jobId())) {
      e = core.state().head(t.thingName());
      if (e == null) {
        // The codec (and the engine) expect an execution in every describe answer.
        out.add(
            reject(
                topic,
                ErrorCode.RESOURCE_NOT_FOUND,
                "Thing " + t.thingName() + " has no pending job execution.",
                r.clientToken(),
                null,
                now));
        return;
      }
    } else {
      e = core.state().execution(t.thingName(), t.jobId(), r.executionNumber());
      if (e == null || !e.released()) {
        out.add(notFound(topic, t, r.executionNumber(), r.clientToken(), now));
        return;
      }
      if (e.status.isTerminal()) {
        out.add(
            reject(
                topic,
                ErrorCode.TERMINAL_STATE_REACHED,
                "Execution "
                    + e.executionNumber
                    + " of job "
                    + e.jobId
                    + " on "
                    + e.thingName
                    + " is already "
                    + e.status
                    + ".",
                r.clientToken(),
                null,
                now));
        return;
      }
    }
    boolean withDocument = r.includeJobDocument() == null || r.includeJobDocument();
    out.add(
        accept(
            topic,
            new DescribeAccepted(
                core.wire(e, true, withDocument), HubCore.seconds(now), r.clientToken())));
  }

  private void update(String topic, JobsTopic t, byte[] body, long now, List<Outbound> out)
      throws ProtocolException {
    UpdateRequest r = core.codec().decode(body, UpdateRequest.class);
    checkDetails(r.statusDetails());
    if (!r.status().isDeviceSettable()) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          "status "
              + r.status()
              + " cannot be set by a device; use IN_PROGRESS, SUCCEEDED, FAILED or REJECTED.");
    }
    Execution e = core.state().execution(t.thingName(), t.jobId(), r.executionNumber());
    if (e == null || !e.released()) {
      // An execution the rollout has not delivered yet does not exist for the device.
      out.add(notFound(topic, t, r.executionNumber(), r.clientToken(), now));
      return;
    }
    if (e.status.isTerminal()) {
      LOG.info(
          "Refused to move job {} on {} from {} to {}: it is over",
          e.jobId,
          e.thingName,
          e.status,
          r.status());
      out.add(
          reject(
              topic,
              ErrorCode.INVALID_STATE_TRANSITION,
              "Execution "
                  + e.executionNumber
                  + " of job "
                  + e.jobId
                  + " is already "
                  + e.status
                  + " and cannot become "
                  + r.status()
                  + ".",
              r.clientToken(),
              HubCore.executionState(e),
              now));
      return;
    }
    if (r.expectedVersion() != null && r.expectedVersion() != e.versionNumber) {
      LOG.info(
          "Version mismatch on job {} on {}: expected {}, current {}",
          e.jobId,
          e.thingName,
          r.expectedVersion(),
          e.versionNumber);
      out.add(
          reject(
              topic,
              ErrorCode.VERSION_MISMATCH,
              "expectedVersion is "
                  + r.expectedVersion()
                  + " but the execution is at version "
                  + e.versionNumber
                  + ".",
              r.clientToken(),
              HubCore.executionState(e),
              now));
      return;
    }
    ExecutionStatus from = e.status;
    List<Outbound> notes = new ArrayList<>();
    core.change(
        notes,
        s -> {
          if (r.statusDetails() != null) {
            e.statusDetails = new LinkedHashMap<>(r.statusDetails());
          }
          e.lastUpdatedAt = now;
          e.versionNumber++;
          if (r.status() == ExecutionStatus.IN_PROGRESS) {
            if (e.status == ExecutionStatus.QUEUED) {
              Rules.start(s, e, r.stepTimeoutInMinutes(), now);
            } else {
              Rules.arm(s, e, r.stepTimeoutInMinutes(), now);
            }
          } else {
            if (r.stepTimeoutInMinutes() != null) {
              e.stepTimeoutInMinutes = r.stepTimeoutInMinutes();
            }
            Rules.finish(s, e, r.status(), now);
          }
          s.touch(e);
          return null;
        });
    if (from != e.status) {
      LOG.info(
          "Job {} on {}: {} -> {} (execution {}, version {})",
          e.jobId,
          e.thingName,
          from,
          e.status,
          e.executionNumber,
          e.versionNumber);
    } else {
      LOG.debug("Job {} on {}: progress (version {})", e.jobId, e.thingName, e.versionNumber);
    }
    out.add(
        accept(
            topic,
            new UpdateAccepted(
                Boolean.TRUE.equals(r.includeJobExecutionState())
                    ? HubCore.executionState(e)
                    : null,
                Boolean.TRUE.equals(r.includeJobDocument())
                    ? core.documentFor(core.state().job(e.jobId), e.thingName)
                    : null,
                HubCore.seconds(now),
                r.clientToken())));
    out.addAll(notes);
  }

  /** The codec already checks statusDetails; this keeps the hub safe should that ever change. */
  private static void checkDetails(Map<String, String> d) throws ProtocolException {
    if (d != null) {
      var why = Limits.checkStatusDetails(d);
      if (why.isPresent()) {
        throw new ProtocolException(ErrorCode.INVALID_REQUEST, why.get());
      }
    }
  }

  // ------------------------------------------------------------------ answers

  private Outbound notFound(String topic, JobsTopic t, Long number, String token, long now) {
    return reject(
        topic,
        ErrorCode.RESOURCE_NOT_FOUND,
        "Thing "
            + t.thingName()
            + " has no execution "
            + (number == null ? "" : number + " ")
            + "of job "
            + t.jobId()
            + ".",
        token,
        null,
        now);
  }

  private Outbound accept(String topic, Object answer) {
    return new Outbound(JobsTopics.accepted(topic), core.codec().encode(answer));
  }

  private Outbound reject(
      String topic,
      ErrorCode code,
      String message,
      String token,
      JobExecutionState state,
      long now) {
    return new Outbound(
        JobsTopics.rejected(topic),
        core.codec().encode(new Rejected(code, message, token, HubCore.seconds(now), state)));
  }

  /**
   * The clientToken of a request the codec refused, so that the rejection still reaches the request
   * it answers; null when there is none to be had.
   */
  static String tokenOf(byte[] payload) {
    try {
      JsonElement e = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8));
      if (e.isJsonObject()) {
        JsonObject o = e.getAsJsonObject();
        JsonElement t = o.get("clientToken");
        if (t != null && t.isJsonPrimitive() && t.getAsJsonPrimitive().isString()) {
          String s = t.getAsString();
          if (!s.isEmpty() && s.length() <= Limits.MAX_CLIENT_TOKEN) {
            return s;
          }
        }
      }
    } catch (RuntimeException e) {
      // not JSON: there is no token to echo
    }
    return null;
  }
}
