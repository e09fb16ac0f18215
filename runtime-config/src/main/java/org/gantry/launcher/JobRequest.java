package org.gantry.launcher;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;
import org.gantry.launcher.CommandLine.HubCall;

/**
 * The CreateJob request body of {@code gantry jobs create}: the {@code --config} file's object (if
 * any), with each option given replacing its field, and the targets given added to the file's.
 * Pure: the files are read and the targets resolved by the caller.
 */
final class JobRequest {

  private JobRequest() {}

  /** The job id: {@code --job-id}, else the config's {@code jobId}, else a generated one. */
  static String jobId(HubCall c, JsonObject config) throws ConfigException {
    if (c.value("--job-id").isPresent()) {
      return c.value("--job-id").get();
    }
    JsonElement id = config.get("jobId");
    if (id == null) {
      return JobsCommand.generateJobId();
    }
    String s = id.isJsonPrimitive() ? id.getAsString() : "";
    Optional<String> problem = CommandLine.checkJobId(s);
    if (problem.isPresent()) {
      throw new ConfigException("bad jobId in the --config file: " + problem.get());
    }
    return s;
  }

  /**
   * The https form of an S3 URL the hub accepts: {@code s3://B/K} is {@code
   * https://s3.amazonaws.com/B/K}.
   */
  static String s3Url(String url) {
    return url.startsWith("s3://") ? "https://s3.amazonaws.com/" + url.substring(5) : url;
  }

  /**
   * @param config the {@code --config} object (empty when none was given); not changed
   * @param document the text of {@code --document}, if given
   * @param targets the ARNs of {@code --thing} and {@code --group}, in that order
   * @throws ConfigException when the result lacks targets or a document (exit status 2)
   */
  static JsonObject body(
      HubCall c, JsonObject config, Optional<String> document, List<String> targets)
      throws ConfigException {
    JsonObject body = config.deepCopy();
    body.remove("jobId"); // in the path, not the body
    JsonArray all = new JsonArray();
    JsonElement fromFile = body.get("targets");
    if (fromFile != null) {
      if (!fromFile.isJsonArray()) {
        throw new ConfigException("targets in the --config file is not an array of ARNs");
      }
      all.addAll(fromFile.getAsJsonArray());
    }
    targets.forEach(all::add);
    if (all.isEmpty()) {
      throw new ConfigException(
          "jobs create needs a target: --thing NAME or --group GROUP (or targets in --config)");
    }
    body.add("targets", all);

    if (document.isPresent()) {
      body.remove("documentSource");
      body.addProperty("document", document.get());
    }
    Optional<String> source = c.value("--document-source");
    if (source.isPresent()) {
      body.remove("document");
      body.addProperty("documentSource", s3Url(source.get()));
    }
    if (!body.has("document") && !body.has("documentSource")) {
      throw new ConfigException(
          "jobs create needs a document: --document FILE or --document-source URL (or document"
              + " or documentSource in --config)");
    }
    c.value("--description").ifPresent(d -> body.addProperty("description", d));
    if (c.has("--continuous")) {
      body.addProperty("targetSelection", "CONTINUOUS");
    } else if (!body.has("targetSelection")) {
      body.addProperty("targetSelection", "SNAPSHOT");
    }

    if (c.has("--max-per-minute") || c.has("--base-rate")) {
      JsonObject rollout = object(body, "jobExecutionsRolloutConfig");
      c.value("--max-per-minute")
          .ifPresent(v -> rollout.addProperty("maximumPerMinute", Long.parseLong(v)));
      if (c.has("--base-rate")) {
        JsonObject exp = new JsonObject();
        exp.addProperty("baseRatePerMinute", Long.parseLong(c.value("--base-rate").get()));
        exp.addProperty("incrementFactor", new BigDecimal(c.value("--increment-factor").get()));
        JsonObject criteria = new JsonObject();
        c.value("--increase-after-notified")
            .ifPresent(v -> criteria.addProperty("numberOfNotifiedThings", Long.parseLong(v)));
        c.value("--increase-after-succeeded")
            .ifPresent(v -> criteria.addProperty("numberOfSucceededThings", Long.parseLong(v)));
        exp.add("rateIncreaseCriteria", criteria);
        rollout.add("exponentialRate", exp);
      }
    }
    if (c.has("--abort")) {
      JsonArray list = new JsonArray();
      for (String a : c.values("--abort")) {
        String[] p = a.split(":");
        JsonObject o = new JsonObject();
        o.addProperty("failureType", p[0]);
        o.addProperty("action", "CANCEL");
        o.addProperty("thresholdPercentage", new BigDecimal(p[1]));
        o.addProperty("minNumberOfExecutedThings", Long.parseLong(p[2]));
        list.add(o);
      }
      object(body, "abortConfig").add("criteriaList", list);
    }
    c.value("--in-progress-timeout")
        .ifPresent(
            v ->
                object(body, "timeoutConfig")
                    .addProperty("inProgressTimeoutInMinutes", Long.parseLong(v)));
    if (c.has("--retry")) {
      JsonArray list = new JsonArray();
      for (String r : c.values("--retry")) {
        String[] p = r.split(":");
        JsonObject o = new JsonObject();
        o.addProperty("failureType", p[0]);
        o.addProperty("numberOfRetries", Long.parseLong(p[1]));
        list.add(o);
      }
      object(body, "jobExecutionsRetryConfig").add("criteriaList", list);
    }
    c.value("--presigned-url-expiry")
        .ifPresent(
            v -> object(body, "presignedUrlConfig").addProperty("expiresInSec", Long.parseLong(v)));
    return body;
  }

  /** The object {@code field} of {@code o}, added empty if absent (replacing a non-object). */
  private static JsonObject object(JsonObject o, String field) {
    JsonElement e = o.get(field);
    if (e != null && e.isJsonObject()) {
      return e.getAsJsonObject();
    }
    JsonObject n = new JsonObject();
    o.add(field, n);
    return n;
  }
}
