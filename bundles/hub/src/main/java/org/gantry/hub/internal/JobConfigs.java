package org.gantry.hub.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * CreateJob's {@code jobExecutionsRolloutConfig}, {@code abortConfig} and {@code
 * jobExecutionsRetryConfig}: read and checked against the ranges of PROTOCOL.md, and written back
 * for DescribeJob. Each error names the field and the range.
 */
final class JobConfigs {
  private static final BigDecimal MIN_FACTOR = new BigDecimal("1.1");
  private static final BigDecimal MAX_FACTOR = new BigDecimal("5");
  private static final BigDecimal HUNDRED = new BigDecimal("100");

  private JobConfigs() {}

  /** The rollout, or null when none is given (every execution is delivered at once). */
  static Job.Rollout rollout(JsonObject c) throws ApiException {
    if (c == null) {
      return null;
    }
    String p = "jobExecutionsRolloutConfig.";
    Long max = whole(c, "maximumPerMinute", p);
    if (max != null && (max < 1 || max > 1000)) {
      throw ApiException.invalid(p + "maximumPerMinute must be 1-1000, got " + max + ".");
    }
    JsonObject exp = object(c, "exponentialRate", p);
    if (exp == null) {
      return max == null ? null : new Job.Rollout(max.intValue(), null, null, null, null);
    }
    String q = p + "exponentialRate.";
    Long base = whole(exp, "baseRatePerMinute", q);
    if (base == null || base < 1 || base > 1000) {
      throw ApiException.invalid(q + "baseRatePerMinute is required, 1-1000.");
    }
    BigDecimal factor = decimal(exp, "incrementFactor", q);
    if (factor == null
        || factor.compareTo(MIN_FACTOR) < 0
        || factor.compareTo(MAX_FACTOR) > 0
        || factor.stripTrailingZeros().scale() > 1) {
      throw ApiException.invalid(q + "incrementFactor is required, 1.1-5 with one decimal.");
    }
    JsonObject crit = object(exp, "rateIncreaseCriteria", q);
    if (crit == null) {
      throw ApiException.invalid(q + "rateIncreaseCriteria is required.");
    }
    String r = q + "rateIncreaseCriteria.";
    Long notified = whole(crit, "numberOfNotifiedThings", r);
    Long succeeded = whole(crit, "numberOfSucceededThings", r);
    if ((notified == null) == (succeeded == null)) {
      throw ApiException.invalid(
          r + " needs exactly one of numberOfNotifiedThings and numberOfSucceededThings.");
    }
    Long n = notified != null ? notified : succeeded;
    if (n < 1 || n > 10_000) {
      throw ApiException.invalid(
          r
              + (notified != null ? "numberOfNotifiedThings" : "numberOfSucceededThings")
              + " must be 1-10000, got "
              + n
              + ".");
    }
    int cap = max == null ? 1000 : max.intValue();
    if (base > cap) {
      throw ApiException.invalid(
          q + "baseRatePerMinute (" + base + ") is above maximumPerMinute (" + cap + ").");
    }
    return new Job.Rollout(
        cap,
        base.intValue(),
        factor.doubleValue(),
        notified == null ? null : notified.intValue(),
        succeeded == null ? null : succeeded.intValue());
  }

  /** The abort criteria; empty when none are given. */
  static List<Job.AbortCriterion> abort(JsonObject c) throws ApiException {
    List<Job.AbortCriterion> out = new ArrayList<>();
    if (c == null) {
      return out;
    }
    JsonArray list = array(c, "criteriaList", "abortConfig.");
    if (list == null || list.isEmpty()) {
      throw ApiException.invalid("abortConfig.criteriaList must list at least one criterion.");
    }
    for (int i = 0; i < list.size(); i++) {
      String p = "abortConfig.criteriaList[" + i + "].";
      JsonObject o = element(list.get(i), p);
      String type = string(o, "failureType", p);
      if (type == null || !Set.of("FAILED", "REJECTED", "TIMED_OUT", "ALL").contains(type)) {
        throw ApiException.invalid(p + "failureType must be FAILED, REJECTED, TIMED_OUT or ALL.");
      }
      String action = string(o, "action", p);
      if (!"CANCEL".equals(action)) {
        throw ApiException.invalid(p + "action must be CANCEL.");
      }
      BigDecimal threshold = decimal(o, "thresholdPercentage", p);
      if (threshold == null
          || threshold.signum() <= 0
          || threshold.compareTo(HUNDRED) > 0
          || threshold.stripTrailingZeros().scale() > 2) {
        throw ApiException.invalid(
            p + "thresholdPercentage is required: above 0, at most 100, two decimals.");
      }
      Long min = whole(o, "minNumberOfExecutedThings", p);
      if (min == null || min < 1 || min > Integer.MAX_VALUE) {
        throw ApiException.invalid(p + "minNumberOfExecutedThings is required, at least 1.");
      }
      out.add(new Job.AbortCriterion(type, action, threshold.doubleValue(), min.intValue()));
    }
    return out;
  }

  /** The retry criteria; empty when none are given. */
  static List<Job.RetryCriterion> retry(JsonObject c) throws ApiException {
    List<Job.RetryCriterion> out = new ArrayList<>();
    if (c == null) {
      return out;
    }
    JsonArray list = array(c, "criteriaList", "jobExecutionsRetryConfig.");
    if (list == null || list.isEmpty()) {
      throw ApiException.invalid(
          "jobExecutionsRetryConfig.criteriaList must list at least one criterion.");
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String p = "jobExecutionsRetryConfig.criteriaList[" + i + "].";
      JsonObject o = element(list.get(i), p);
      String type = string(o, "failureType", p);
      if (type == null || !Set.of("FAILED", "TIMED_OUT", "ALL").contains(type)) {
        throw ApiException.invalid(p + "failureType must be FAILED, TIMED_OUT or ALL.");
      }
      if (!seen.add(type)) {
        throw ApiException.invalid(p + "failureType " + type + " appears twice.");
      }
      Long n = whole(o, "numberOfRetries", p);
      if (n == null || n < 0 || n > 10) {
        throw ApiException.invalid(p + "numberOfRetries is required, 0-10.");
      }
      out.add(new Job.RetryCriterion(type, n.intValue()));
    }
    return out;
  }

  /** The configurations as DescribeJob shows them. */
  static void describe(Job j, JsonObject job) {
    if (j.rollout != null) {
      JsonObject r = new JsonObject();
      r.addProperty("maximumPerMinute", j.rollout.maximumPerMinute());
      if (j.rollout.exponential()) {
        JsonObject e = new JsonObject();
        e.addProperty("baseRatePerMinute", j.rollout.baseRatePerMinute());
        e.addProperty("incrementFactor", j.rollout.incrementFactor());
        JsonObject c = new JsonObject();
        if (j.rollout.numberOfNotifiedThings() != null) {
          c.addProperty("numberOfNotifiedThings", j.rollout.numberOfNotifiedThings());
        } else {
          c.addProperty("numberOfSucceededThings", j.rollout.numberOfSucceededThings());
        }
        e.add("rateIncreaseCriteria", c);
        r.add("exponentialRate", e);
      }
      job.add("jobExecutionsRolloutConfig", r);
    }
    if (!j.abortCriteria.isEmpty()) {
      JsonArray list = new JsonArray();
      for (Job.AbortCriterion a : j.abortCriteria) {
        JsonObject o = new JsonObject();
        o.addProperty("failureType", a.failureType());
        o.addProperty("action", a.action());
        o.addProperty("thresholdPercentage", a.thresholdPercentage());
        o.addProperty("minNumberOfExecutedThings", a.minNumberOfExecutedThings());
        list.add(o);
      }
      JsonObject c = new JsonObject();
      c.add("criteriaList", list);
      job.add("abortConfig", c);
    }
    if (!j.retryCriteria.isEmpty()) {
      JsonArray list = new JsonArray();
      for (Job.RetryCriterion r : j.retryCriteria) {
        JsonObject o = new JsonObject();
        o.addProperty("failureType", r.failureType());
        o.addProperty("numberOfRetries", r.numberOfRetries());
        list.add(o);
      }
      JsonObject c = new JsonObject();
      c.add("criteriaList", list);
      job.add("jobExecutionsRetryConfig", c);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static JsonObject element(JsonElement e, String path) throws ApiException {
    if (e == null || !e.isJsonObject()) {
      throw ApiException.invalid(path.substring(0, path.length() - 1) + " must be an object.");
    }
    return e.getAsJsonObject();
  }

  private static JsonObject object(JsonObject o, String field, String path) throws ApiException {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonObject()) {
      throw ApiException.invalid(path + field + " must be an object.");
    }
    return e.getAsJsonObject();
  }

  private static JsonArray array(JsonObject o, String field, String path) throws ApiException {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonArray()) {
      throw ApiException.invalid(path + field + " must be a list.");
    }
    return e.getAsJsonArray();
  }

  private static String string(JsonObject o, String field, String path) throws ApiException {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw ApiException.invalid(path + field + " must be a string.");
    }
    return e.getAsString();
  }

  private static BigDecimal decimal(JsonObject o, String field, String path) throws ApiException {
    JsonElement e = o.get(field);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    try {
      if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
        return e.getAsBigDecimal();
      }
    } catch (NumberFormatException x) {
      // answered below
    }
    throw ApiException.invalid(path + field + " must be a number.");
  }

  private static Long whole(JsonObject o, String field, String path) throws ApiException {
    BigDecimal d = decimal(o, field, path);
    if (d == null) {
      return null;
    }
    try {
      return d.longValueExact();
    } catch (ArithmeticException x) {
      throw ApiException.invalid(path + field + " must be a whole number.");
    }
  }
}
