package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gantry.launcher.CommandLine.HubCall;
import org.junit.jupiter.api.Test;

/** The CreateJob body that {@code gantry jobs create} sends. */
class JobRequestTest {

  private static HubCall call(String line) {
    return assertInstanceOf(
        HubCall.class, CommandLine.parse(line.split(" "), null, Path.of("/tmp"), Map.of()));
  }

  private static JsonObject json(String s) {
    return JsonParser.parseString(s).getAsJsonObject();
  }

  @Test
  void everyOptionBecomesItsCreateJobField() throws Exception {
    HubCall c =
        call(
            "jobs create --group g --document d.json --description nightly --continuous"
                + " --max-per-minute 50 --base-rate 2 --increment-factor 1.5"
                + " --increase-after-succeeded 10 --abort FAILED:20:10 --abort ALL:50.5:4"
                + " --in-progress-timeout 30 --retry TIMED_OUT:2 --retry FAILED:1"
                + " --presigned-url-expiry 600");
    JsonObject body =
        JobRequest.body(c, new JsonObject(), Optional.of("{\"operation\":\"x\"}"), List.of("G"));
    assertEquals(
        json(
            "{\"targets\":[\"G\"],\"document\":\"{\\\"operation\\\":\\\"x\\\"}\","
                + "\"description\":\"nightly\",\"targetSelection\":\"CONTINUOUS\","
                + "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":50,\"exponentialRate\":"
                + "{\"baseRatePerMinute\":2,\"incrementFactor\":1.5,\"rateIncreaseCriteria\":"
                + "{\"numberOfSucceededThings\":10}}},"
                + "\"abortConfig\":{\"criteriaList\":["
                + "{\"failureType\":\"FAILED\",\"action\":\"CANCEL\",\"thresholdPercentage\":20,"
                + "\"minNumberOfExecutedThings\":10},"
                + "{\"failureType\":\"ALL\",\"action\":\"CANCEL\",\"thresholdPercentage\":50.5,"
                + "\"minNumberOfExecutedThings\":4}]},"
                + "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":30},"
                + "\"jobExecutionsRetryConfig\":{\"criteriaList\":["
                + "{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":2},"
                + "{\"failureType\":\"FAILED\",\"numberOfRetries\":1}]},"
                + "\"presignedUrlConfig\":{\"expiresInSec\":600}}"),
        body);
  }

  @Test
  void theConfigFileIsTheBaseOptionsReplaceItsFieldsAndAddTargets() throws Exception {
    JsonObject config =
        json(
            "{\"jobId\":\"from-file\",\"targets\":[\"arn:t/a\"],\"document\":\"{}\","
                + "\"targetSelection\":\"SNAPSHOT\",\"description\":\"old\","
                + "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":5},"
                + "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":9}}");
    HubCall c =
        call("jobs create --config c.json --max-per-minute 7 --document-source s3://fw/v2.json");
    JsonObject body = JobRequest.body(c, config, Optional.empty(), List.of("arn:t/b"));
    assertEquals("from-file", JobRequest.jobId(c, config));
    assertEquals(
        json(
            "{\"targets\":[\"arn:t/a\",\"arn:t/b\"],\"targetSelection\":\"SNAPSHOT\","
                + "\"description\":\"old\",\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":7},"
                + "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":9},"
                + "\"documentSource\":\"https://s3.amazonaws.com/fw/v2.json\"}"),
        body);
    assertTrue(config.has("jobId"), "the config object itself is not changed");
    assertEquals("j-9", JobRequest.jobId(call("jobs create --job-id j-9"), config));
  }

  @Test
  void withoutTargetsOrADocumentNothingIsSent() {
    HubCall c = call("jobs create --document d.json");
    ConfigException noTarget =
        assertThrows(
            ConfigException.class,
            () -> JobRequest.body(c, new JsonObject(), Optional.of("{}"), List.of()));
    assertTrue(
        noTarget.getMessage().startsWith("jobs create needs a target"), noTarget.getMessage());
    HubCall d = call("jobs create --thing t");
    ConfigException noDocument =
        assertThrows(
            ConfigException.class,
            () -> JobRequest.body(d, new JsonObject(), Optional.empty(), List.of("t")));
    assertTrue(
        noDocument.getMessage().startsWith("jobs create needs a document"),
        noDocument.getMessage());
    ConfigException badId =
        assertThrows(ConfigException.class, () -> JobRequest.jobId(d, json("{\"jobId\":\"a b\"}")));
    assertTrue(badId.getMessage().startsWith("bad jobId in the --config file"), badId.getMessage());
  }

  @Test
  void s3UrlsBecomeTheHttpsFormTheHubReads() {
    assertEquals("https://s3.amazonaws.com/b/k/v.json", JobRequest.s3Url("s3://b/k/v.json"));
    assertEquals(
        "https://s3.eu-west-1.amazonaws.com/b/k",
        JobRequest.s3Url("https://s3.eu-west-1.amazonaws.com/b/k"));
  }
}
