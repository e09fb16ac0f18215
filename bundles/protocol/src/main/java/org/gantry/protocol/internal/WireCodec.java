package org.gantry.protocol.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.DescribeRequest;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.GetPendingAccepted;
import org.gantry.protocol.GetPendingRequest;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.JobExecutionState;
import org.gantry.protocol.JobExecutionSummary;
import org.gantry.protocol.Limits;
import org.gantry.protocol.Notify;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.ProtocolException;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.StartNextAccepted;
import org.gantry.protocol.StartNextRequest;
import org.gantry.protocol.UpdateAccepted;
import org.gantry.protocol.UpdateRequest;

/** Encodes and decodes every payload record; the field names and shapes are PROTOCOL.md's. */
public final class WireCodec {
  private WireCodec() {}

  // ---------------------------------------------------------------- encode

  /**
   * @throws IllegalArgumentException for a type that is not a payload record, or a job document
   *     that is not valid JSON
   */
  public static byte[] encode(Object m) {
    JsonOut o = new JsonOut();
    if (m instanceof GetPendingRequest) {
      GetPendingRequest r = (GetPendingRequest) m;
      o.beginObject();
      opt(o, "clientToken", r.clientToken());
      o.endObject();
    } else if (m instanceof DescribeRequest) {
      DescribeRequest r = (DescribeRequest) m;
      o.beginObject();
      opt(o, "executionNumber", r.executionNumber());
      opt(o, "includeJobDocument", r.includeJobDocument());
      opt(o, "clientToken", r.clientToken());
      o.endObject();
    } else if (m instanceof StartNextRequest) {
      StartNextRequest r = (StartNextRequest) m;
      o.beginObject();
      if (r.statusDetails() != null) {
        details(o.name("statusDetails"), r.statusDetails());
      }
      opt(o, "stepTimeoutInMinutes", r.stepTimeoutInMinutes());
      opt(o, "clientToken", r.clientToken());
      o.endObject();
    } else if (m instanceof UpdateRequest) {
      UpdateRequest r = (UpdateRequest) m;
      o.beginObject();
      o.name("status").value(r.status().name());
      if (r.statusDetails() != null) {
        details(o.name("statusDetails"), r.statusDetails());
      }
      opt(o, "expectedVersion", r.expectedVersion());
      opt(o, "executionNumber", r.executionNumber());
      opt(o, "includeJobExecutionState", r.includeJobExecutionState());
      opt(o, "includeJobDocument", r.includeJobDocument());
      opt(o, "stepTimeoutInMinutes", r.stepTimeoutInMinutes());
      opt(o, "clientToken", r.clientToken());
      o.endObject();
    } else if (m instanceof GetPendingAccepted) {
      GetPendingAccepted r = (GetPendingAccepted) m;
      o.beginObject();
      summaries(o.name("inProgressJobs"), r.inProgressJobs());
      summaries(o.name("queuedJobs"), r.queuedJobs());
      o.name("timestamp").value(r.timestamp());
      opt(o, "clientToken", r.clientToken());
      o.endObject();
    } else if (m instanceof DescribeAccepted) {
      DescribeAccepted r = (DescribeAccepted) m;
      o.beginObject();
      execution(o.name("execution"), r.execution(), true);
      o.name("timestamp").value(r.timestamp());
      opt(o, "clientToken", r.clientToken());
      o.endObject();
    } else if (m instanceof StartNextAccepted) {
      StartNextAccepted r = (StartNextAccepted) m;
      o.beginObject();
      if (r.execution() != null) {
        execution(o.name("execution"), r.execution(), true);
      }
      o.name("timestamp").value(r.timestamp());
      opt(o, "clientToken", r.clientToken());
      o.endObject();
    } else if (m instanceof UpdateAccepted) {
      UpdateAccepted r = (UpdateAccepted) m;
      o.beginObject();
      if (r.executionState() != null) {
        state(o.name("executionState"), r.executionState());
      }
      document(o, r.jobDocument());
      o.name("timestamp").value(r.timestamp());
      opt(o, "clientToken", r.clientToken());
      o.endObject();
    } else if (m instanceof Rejected) {
      Rejected r = (Rejected) m;
      o.beginObject();
      o.name("code").value(r.code().wireName());
      opt(o, "message", r.message());
      opt(o, "clientToken", r.clientToken());
      o.name("timestamp").value(r.timestamp());
      if (r.executionState() != null) {
        state(o.name("executionState"), r.executionState());
      }
      o.endObject();
    } else if (m instanceof NotifyNext) {
      NotifyNext r = (NotifyNext) m;
      o.beginObject();
      o.name("timestamp").value(r.timestamp());
      if (r.execution() != null) {
        // PROTOCOL.md's notify-next carries no empty statusDetails; describe and start-next do.
        execution(o.name("execution"), r.execution(), false);
      }
      o.endObject();
    } else if (m instanceof Notify) {
      Notify r = (Notify) m;
      o.beginObject();
      o.name("timestamp").value(r.timestamp());
      o.name("jobs").beginObject();
      for (Map.Entry<ExecutionStatus, List<JobExecutionSummary>> e : r.jobs().entrySet()) {
        summaries(o.name(e.getKey().name()), e.getValue());
      }
      o.endObject();
      o.endObject();
    } else if (m instanceof JobExecution) {
      execution(o, (JobExecution) m, true);
    } else if (m instanceof JobExecutionState) {
      state(o, (JobExecutionState) m);
    } else if (m instanceof JobExecutionSummary) {
      summary(o, (JobExecutionSummary) m);
    } else {
      throw new IllegalArgumentException(
          "Cannot encode "
              + (m == null ? "null" : m.getClass().getName())
              + ": it is not a payload record of org.gantry.protocol.");
    }
    return o.toUtf8();
  }

  private static void opt(JsonOut o, String name, String v) {
    if (v != null) {
      o.name(name).value(v);
    }
  }

  private static void opt(JsonOut o, String name, Long v) {
    if (v != null) {
      o.name(name).value(v.longValue());
    }
  }

  private static void opt(JsonOut o, String name, Boolean v) {
    if (v != null) {
      o.name(name).value(v.booleanValue());
    }
  }

  private static void details(JsonOut o, Map<String, String> d) {
    o.beginObject();
    d.forEach((k, v) -> o.name(k).value(v));
    o.endObject();
  }

  private static void document(JsonOut o, String doc) {
    if (doc != null) {
      o.name(JsonIn.DOCUMENT_FIELD).rawValue(JsonIn.compact(doc, JsonIn.DOCUMENT_FIELD));
    }
  }

  private static void summaries(JsonOut o, List<JobExecutionSummary> l) {
    o.beginArray();
    for (JobExecutionSummary s : l) {
      summary(o, s);
    }
    o.endArray();
  }

  private static void summary(JsonOut o, JobExecutionSummary s) {
    o.beginObject();
    o.name("jobId").value(s.jobId());
    opt(o, "queuedAt", s.queuedAt());
    opt(o, "startedAt", s.startedAt());
    opt(o, "lastUpdatedAt", s.lastUpdatedAt());
    o.name("versionNumber").value(s.versionNumber());
    o.name("executionNumber").value(s.executionNumber());
    o.endObject();
  }

  private static void execution(JsonOut o, JobExecution e, boolean emptyDetails) {
    o.beginObject();
    o.name("jobId").value(e.jobId());
    opt(o, "thingName", e.thingName());
    document(o, e.jobDocument());
    o.name("status").value(e.status().name());
    if (emptyDetails || !e.statusDetails().isEmpty()) {
      details(o.name("statusDetails"), e.statusDetails());
    }
    opt(o, "queuedAt", e.queuedAt());
    opt(o, "startedAt", e.startedAt());
    opt(o, "lastUpdatedAt", e.lastUpdatedAt());
    o.name("versionNumber").value(e.versionNumber());
    o.name("executionNumber").value(e.executionNumber());
    o.endObject();
  }

  private static void state(JsonOut o, JobExecutionState s) {
    o.beginObject();
    o.name("status").value(s.status().name());
    details(o.name("statusDetails"), s.statusDetails());
    o.name("versionNumber").value(s.versionNumber());
    o.endObject();
  }

  // ---------------------------------------------------------------- decode

  /**
   * @throws IllegalArgumentException for a type that is not a payload record
   */
  public static <T> T decode(byte[] payload, Class<T> type) throws ProtocolException {
    if (!isSupported(type)) {
      throw new IllegalArgumentException(
          "Cannot decode "
              + (type == null ? "null" : type.getName())
              + ": it is not a payload record of org.gantry.protocol.");
    }
    Fields f = new Fields(JsonIn.parseObject(payload), "");
    return type.cast(decode(f, type));
  }

  private static boolean isSupported(Class<?> t) {
    return t == GetPendingRequest.class
        || t == DescribeRequest.class
        || t == StartNextRequest.class
        || t == UpdateRequest.class
        || t == GetPendingAccepted.class
        || t == DescribeAccepted.class
        || t == StartNextAccepted.class
        || t == UpdateAccepted.class
        || t == Rejected.class
        || t == NotifyNext.class
        || t == Notify.class
        || t == JobExecution.class
        || t == JobExecutionState.class
        || t == JobExecutionSummary.class;
  }

  private static Object decode(Fields f, Class<?> t) throws ProtocolException {
    if (t == GetPendingRequest.class) {
      return new GetPendingRequest(clientToken(f));
    }
    if (t == DescribeRequest.class) {
      return new DescribeRequest(
          atLeastOne(f, "executionNumber"), f.optBoolean("includeJobDocument"), clientToken(f));
    }
    if (t == StartNextRequest.class) {
      return new StartNextRequest(requestDetails(f), stepTimeout(f), clientToken(f));
    }
    if (t == UpdateRequest.class) {
      return new UpdateRequest(
          status(f),
          requestDetails(f),
          atLeastOne(f, "expectedVersion"),
          atLeastOne(f, "executionNumber"),
          f.optBoolean("includeJobExecutionState"),
          f.optBoolean("includeJobDocument"),
          stepTimeout(f),
          clientToken(f));
    }
    if (t == GetPendingAccepted.class) {
      return new GetPendingAccepted(
          summaries(f, "inProgressJobs"),
          summaries(f, "queuedJobs"),
          f.reqLong("timestamp"),
          f.optString("clientToken"));
    }
    if (t == DescribeAccepted.class) {
      return new DescribeAccepted(
          execution(f.reqObject("execution")), f.reqLong("timestamp"), f.optString("clientToken"));
    }
    if (t == StartNextAccepted.class) {
      Fields e = f.optObject("execution");
      return new StartNextAccepted(
          e == null ? null : execution(e), f.reqLong("timestamp"), f.optString("clientToken"));
    }
    if (t == UpdateAccepted.class) {
      Fields s = f.optObject("executionState");
      return new UpdateAccepted(
          s == null ? null : state(s),
          f.optDocument(JsonIn.DOCUMENT_FIELD),
          f.reqLong("timestamp"),
          f.optString("clientToken"));
    }
    if (t == Rejected.class) {
      String code = f.reqString("code");
      Fields s = f.optObject("executionState");
      return new Rejected(
          ErrorCode.fromWire(code).orElse(ErrorCode.INTERNAL_ERROR),
          f.optString("message"),
          f.optString("clientToken"),
          f.reqLong("timestamp"),
          s == null ? null : state(s));
    }
    if (t == NotifyNext.class) {
      Fields e = f.optObject("execution");
      return new NotifyNext(f.reqLong("timestamp"), e == null ? null : execution(e));
    }
    if (t == Notify.class) {
      Map<ExecutionStatus, List<JobExecutionSummary>> jobs = new LinkedHashMap<>();
      Map<String, Object> members = f.optMembers("jobs");
      if (members != null) {
        Fields j = f.optObject("jobs");
        for (String key : members.keySet()) {
          jobs.put(status(key, j.path(key)), summaries(j, key));
        }
      }
      return new Notify(f.reqLong("timestamp"), jobs);
    }
    if (t == JobExecution.class) {
      return execution(f);
    }
    if (t == JobExecutionState.class) {
      return state(f);
    }
    return summary(f);
  }

  private static List<JobExecutionSummary> summaries(Fields f, String name)
      throws ProtocolException {
    List<Fields> items = f.objectList(name);
    List<JobExecutionSummary> out = new ArrayList<>(items.size());
    for (Fields item : items) {
      out.add(summary(item));
    }
    return out;
  }

  private static JobExecutionSummary summary(Fields f) throws ProtocolException {
    return new JobExecutionSummary(
        f.reqString("jobId"),
        f.optLong("queuedAt"),
        f.optLong("startedAt"),
        f.optLong("lastUpdatedAt"),
        f.reqLong("versionNumber"),
        f.reqLong("executionNumber"));
  }

  private static JobExecution execution(Fields f) throws ProtocolException {
    Map<String, String> details = f.optStringMap("statusDetails");
    return new JobExecution(
        f.reqString("jobId"),
        f.optString("thingName"),
        f.optDocument(JsonIn.DOCUMENT_FIELD),
        status(f),
        details,
        f.optLong("queuedAt"),
        f.optLong("startedAt"),
        f.optLong("lastUpdatedAt"),
        f.reqLong("versionNumber"),
        f.reqLong("executionNumber"));
  }

  private static JobExecutionState state(Fields f) throws ProtocolException {
    return new JobExecutionState(
        status(f), f.optStringMap("statusDetails"), f.reqLong("versionNumber"));
  }

  private static ExecutionStatus status(Fields f) throws ProtocolException {
    return status(f.reqString("status"), f.path("status"));
  }

  private static ExecutionStatus status(String s, String field) throws ProtocolException {
    for (ExecutionStatus st : ExecutionStatus.values()) {
      if (st.name().equals(s)) {
        return st;
      }
    }
    throw new ProtocolException(
        ErrorCode.INVALID_REQUEST,
        "Field "
            + field
            + " has the unknown execution status "
            + quote(s)
            + "; known ones are QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED,"
            + " REMOVED and CANCELED.");
  }

  // ---------------------------------------------------------------- request validation

  private static String clientToken(Fields f) throws ProtocolException {
    String t = f.optString("clientToken");
    if (t != null && (t.isEmpty() || t.length() > Limits.MAX_CLIENT_TOKEN)) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          "Field clientToken must be 1-"
              + Limits.MAX_CLIENT_TOKEN
              + " characters long, but it has "
              + t.length()
              + ".");
    }
    return t;
  }

  private static Long stepTimeout(Fields f) throws ProtocolException {
    Long v = f.optLong("stepTimeoutInMinutes");
    if (v != null && (v < Limits.MIN_STEP_TIMEOUT_MINUTES || v > Limits.MAX_STEP_TIMEOUT_MINUTES)) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          "Field stepTimeoutInMinutes must be between "
              + Limits.MIN_STEP_TIMEOUT_MINUTES
              + " and "
              + Limits.MAX_STEP_TIMEOUT_MINUTES
              + ", but it is "
              + v
              + ".");
    }
    return v;
  }

  private static Long atLeastOne(Fields f, String name) throws ProtocolException {
    Long v = f.optLong(name);
    if (v != null && v < 1) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST, "Field " + name + " must be at least 1, but it is " + v + ".");
    }
    return v;
  }

  private static Map<String, String> requestDetails(Fields f) throws ProtocolException {
    Map<String, String> d = f.optStringMap("statusDetails");
    if (d != null) {
      Optional<String> why = Limits.checkStatusDetails(d);
      if (why.isPresent()) {
        throw new ProtocolException(ErrorCode.INVALID_REQUEST, "Field " + why.get());
      }
    }
    return d;
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length() && i < 40; i++) {
      char c = s.charAt(i);
      sb.append(c < 0x20 || c == '"' || c == '\\' || Character.isSurrogate(c) ? '?' : c);
    }
    return sb.append(s.length() > 40 ? "\u2026\"" : "\"").toString();
  }
}
