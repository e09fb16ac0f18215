package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.NotifyNext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Presigned-URL placeholders and documentSource through the hub's device API and a real artifact
 * server on loopback, on a clock the test moves.
 */
class PresignedUrlTest {
  private static final String T = "$aws/things/gw-1/jobs/";
  private static final String PLACEHOLDER =
      "${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/fw-bucket/images/app-2.bin}";
  private static final byte[] IMAGE = "firmware image 2.0".getBytes(StandardCharsets.UTF_8);
  private static final Pattern URL = Pattern.compile("\"url\":\"(http://[^\"]+)\"");

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock(1_700_000_000_000L);
  private final JobsCodec codec = new JobsCodec();
  private final HttpClient http = HttpClient.newHttpClient();
  private Artifacts artifacts;
  private HubStore store;
  private HubCore core;
  private DeviceApi device;
  private ControlPlane control;

  @BeforeEach
  void hub() throws Exception {
    artifacts = Artifacts.start(dir, Artifacts.Settings.loopback(), clock);
    store = new HubStore(dir);
    core = new HubCore(store, store.load(), clock::millis, artifacts::forDevice);
    device = new DeviceApi(core);
    control = new ControlPlane(core, new Arns("us-east-1", "123456789012"), artifacts);
    artifacts
        .store()
        .put("fw-bucket/images/app-2.bin", new ByteArrayInputStream(IMAGE), 1 << 20, null);
  }

  @AfterEach
  void stop() {
    artifacts.close();
    store.close();
  }

  @Test
  void aDeviceGetsASignedUrlThatExpiresAndAFreshOneWhenItAsksAgain() throws Exception {
    List<Outbound> created =
        createJob(
            "fw-1",
            "{\"document\":"
                + quote("{\"operation\":\"download-file\",\"url\":\"" + PLACEHOLDER + "\"}")
                + ",\"targets\":[\"gw-1\"],\"presignedUrlConfig\":{\"expiresInSec\":120}}");

    // notify-next carries the document too: already signed
    NotifyNext note = codec.decode(only(created, T + "notify-next").payload(), NotifyNext.class);
    String first = url(note.execution().jobDocument());
    assertFalse(note.execution().jobDocument().contains("${aws:iot"));
    assertEquals(200, get(first).statusCode());
    assertArrayEquals(IMAGE, get(first).body());

    clock.advance(121_000);
    HttpResponse<byte[]> expired = get(first);
    assertEquals(403, expired.statusCode());

    // the gateway's refreshParameters: {jobId}/get with the document, signed anew
    DescribeAccepted again =
        codec.decode(
            only(send(T + "fw-1/get", "{\"includeJobDocument\":true}"), T + "fw-1/get/accepted")
                .payload(),
            DescribeAccepted.class);
    String fresh = url(again.execution().jobDocument());
    assertNotEquals(first, fresh);
    assertEquals(200, get(fresh).statusCode());
    assertArrayEquals(IMAGE, get(fresh).body());

    // a tampered URL is refused
    assertEquals(403, get(fresh.replace("app-2.bin", "app-3.bin")).statusCode());
    // the stored document keeps its placeholder; GetJobDocument shows it as written
    assertTrue(control.getJobDocument("fw-1").get("document").getAsString().contains(PLACEHOLDER));
  }

  @Test
  void createJobRefusesPlaceholdersItCannotServe() throws Exception {
    String missing = PLACEHOLDER.replace("app-2.bin", "nope.bin");
    ApiException noArtifact =
        assertThrows(
            ApiException.class,
            () ->
                createJob(
                    "fw-2",
                    "{\"document\":"
                        + quote("{\"operation\":\"download-file\",\"url\":\"" + missing + "\"}")
                        + ",\"targets\":[\"gw-1\"],\"presignedUrlConfig\":{\"expiresInSec\":60}}"));
    assertTrue(
        noArtifact.getMessage().contains("fw-bucket/images/nope.bin"), noArtifact.getMessage());

    ApiException noConfig =
        assertThrows(
            ApiException.class,
            () ->
                createJob(
                    "fw-3",
                    "{\"document\":"
                        + quote("{\"operation\":\"download-file\",\"url\":\"" + PLACEHOLDER + "\"}")
                        + ",\"targets\":[\"gw-1\"]}"));
    assertTrue(noConfig.getMessage().contains("presignedUrlConfig"), noConfig.getMessage());

    ApiException badExpiry =
        assertThrows(
            ApiException.class,
            () ->
                createJob(
                    "fw-4",
                    "{\"document\":"
                        + quote("{\"operation\":\"download-file\",\"url\":\"" + PLACEHOLDER + "\"}")
                        + ",\"targets\":[\"gw-1\"],\"presignedUrlConfig\":{\"expiresInSec\":30}}"));
    assertTrue(badExpiry.getMessage().contains("60-3600"), badExpiry.getMessage());
  }

  @Test
  void documentSourceReadsTheDocumentFromAnArtifactOnce() throws Exception {
    String doc = "{\"operation\":\"diagnostics\"}";
    artifacts
        .store()
        .put(
            "docs/diagnostics.json",
            new ByteArrayInputStream(doc.getBytes(StandardCharsets.UTF_8)),
            1 << 20,
            null);
    createJob(
        "from-s3",
        "{\"documentSource\":\"https://docs.s3.amazonaws.com/diagnostics.json\","
            + "\"targets\":[\"gw-1\"]}");
    assertEquals(doc, control.getJobDocument("from-s3").get("document").getAsString());
    JsonObject job = control.describeJob("from-s3").getAsJsonObject("job");
    assertEquals(
        "https://docs.s3.amazonaws.com/diagnostics.json", job.get("documentSource").getAsString());

    ApiException missing =
        assertThrows(
            ApiException.class,
            () ->
                createJob(
                    "from-nothing",
                    "{\"documentSource\":\"https://docs.s3.amazonaws.com/none.json\","
                        + "\"targets\":[\"gw-1\"]}"));
    assertEquals(400, missing.status());
  }

  private List<Outbound> createJob(String jobId, String json) throws Exception {
    List<Outbound> out = new ArrayList<>();
    control.createJob(jobId, JsonParser.parseString(json).getAsJsonObject(), out);
    core.tick(out);
    core.commit();
    return out;
  }

  private List<Outbound> send(String topic, String json) throws Exception {
    List<Outbound> out =
        new ArrayList<>(device.handle(topic, json.getBytes(StandardCharsets.UTF_8)));
    core.tick(out);
    core.commit();
    return out;
  }

  private static Outbound only(List<Outbound> out, String topic) {
    List<Outbound> found = out.stream().filter(o -> o.topic().equals(topic)).toList();
    assertEquals(1, found.size(), "one message on " + topic + " in " + Fixture.topics(out));
    return found.get(0);
  }

  private HttpResponse<byte[]> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String url(String document) {
    Matcher m = URL.matcher(document);
    assertTrue(m.find(), "no signed URL in " + document);
    return m.group(1);
  }

  private static String quote(String s) {
    return new JsonPrimitive(s).toString();
  }
}
