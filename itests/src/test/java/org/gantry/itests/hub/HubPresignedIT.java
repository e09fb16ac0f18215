package org.gantry.itests.hub;

import static org.gantry.itests.support.TestJobsService.patience;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.OperationResult;
import org.gantry.itests.support.GatewayConfig;
import org.gantry.protocol.NotifyNext;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * A presigned URL that expires before a real gateway uses it: hub, gateway and the firmware
 * operation bundle in one Felix framework, the hub on a {@link SteppedClock}. The job's first step
 * waits until the test has moved the hub's clock past the URL's lifetime; the second step, {@code
 * download-file}, then meets HTTP 403 at the hub's artifact server, asks the engine for the
 * document again (refreshParameters), gets a URL signed anew and downloads the artifact.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HubPresignedIT {
  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  private static final String THING = "presign-" + RUN;
  private static final Pattern URL = Pattern.compile("\"url\":\"(http://[^\"]+)\"");

  @Inject private BundleContext context;
  @Inject private ConfigurationAdmin configAdmin;

  @Configuration
  public Option[] configuration() {
    return HubFramework.options(
        List.of("gantry-hub", "gantry-gateway", "gantry-op-diagnostics", "gantry-op-firmware"));
  }

  @Test
  public void anExpiredUrlIsSignedAnewWhenTheGatewayAsksAgain() throws Exception {
    SteppedClock clock = new SteppedClock(1_700_000_000_000L);
    Dictionary<String, Object> clockProps = new Hashtable<>();
    clockProps.put("gantry.clock", "hub");
    context.registerService(Clock.class, clock, clockProps);
    HubSetup setup = new HubSetup(context);
    setup.configureOnce(configAdmin);
    HubApi api = new HubApi(setup.apiBase());
    api.awaitUp(patience());
    api.createThing(THING);

    Path downloads = Files.createDirectories(GatewayConfig.dataDir("dl-" + RUN));
    Dictionary<String, Object> firmware = new Hashtable<>();
    firmware.put("firmware.dir", GatewayConfig.dataDir("fw-" + RUN).toString());
    firmware.put("download.dir", downloads.toString());
    firmware.put("http.allowed", true);
    configAdmin.getConfiguration("org.gantry.op.firmware", "?").update(firmware);

    CountDownLatch release = new CountDownLatch(1);
    Dictionary<String, Object> props = new Hashtable<>();
    props.put(JobOperation.TYPE, "itest-wait");
    JobOperation wait =
        ctx -> {
          try {
            release.await(patience().toMillis(), TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return OperationResult.succeeded();
        };
    var registration = context.registerService(JobOperation.class, wait, props);

    byte[] image = ("firmware image " + RUN).getBytes(StandardCharsets.UTF_8);
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(setup.apiBase().resolve("/artifacts/fw-bucket/app-" + RUN))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(image))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(put.body(), 200, put.statusCode());

    try (RawDevice watcher =
        RawDevice.connect(
            setup.brokerUrl(),
            "watch-" + RUN,
            List.of("$aws/things/" + THING + "/jobs/notify-next"))) {
      Dictionary<String, Object> transport = new Hashtable<>();
      transport.put("broker.url", setup.brokerUrl());
      transport.put("client.id", "gw-" + RUN);
      configAdmin.getConfiguration(GatewayConfig.TRANSPORT_PID, "?").update(transport);
      Dictionary<String, Object> engine = new Hashtable<>();
      engine.put("thing.name", THING);
      engine.put("data.dir", GatewayConfig.dataDir("gw-" + RUN).toString());
      engine.put("request.timeout.seconds", 5);
      configAdmin.getConfiguration(GatewayConfig.ENGINE_PID, "?").update(engine);

      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image));
      String document =
          "{\"steps\":[{\"operation\":\"itest-wait\"},{\"operation\":\"download-file\","
              + "\"url\":\"${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/fw-bucket/app-"
              + RUN
              + "}\",\"filePath\":\"app.bin\",\"sha256\":\""
              + sha
              + "\"}]}";
      JsonObject body = new JsonObject();
      body.add("targets", JsonParser.parseString("[\"" + THING + "\"]"));
      body.addProperty("document", document);
      body.add("presignedUrlConfig", JsonParser.parseString("{\"expiresInSec\":60}"));
      String job = "presigned-" + RUN;
      HubApi.Answer created = api.send("PUT", "/jobs/" + job, body);
      assertEquals(created.toString(), 200, created.status());

      // The URL the gateway was given, signed at the hub's "now" for 60 seconds.
      NotifyNext next =
          watcher.await("$aws/things/" + THING + "/jobs/notify-next", NotifyNext.class, patience());
      Matcher m = URL.matcher(next.execution().jobDocument());
      assertTrue(next.execution().jobDocument(), m.find());
      String first = m.group(1);
      assertEquals(200, get(http, first).statusCode());

      api.awaitExecution(THING, job, "IN_PROGRESS", patience());
      clock.advance(Duration.ofMinutes(2).toMillis());
      assertEquals("the first URL has expired", 403, get(http, first).statusCode());
      release.countDown(); // the download step starts with the expired URL

      JsonObject done = api.awaitExecution(THING, job, "SUCCEEDED", patience().multipliedBy(2));
      assertTrue(done.toString(), done.toString().contains("SUCCEEDED"));
      assertArrayEquals(
          "the gateway downloaded the artifact with a fresh URL",
          image,
          Files.readAllBytes(downloads.resolve("app.bin")));
    } finally {
      registration.unregister();
    }
  }

  private static HttpResponse<byte[]> get(HttpClient http, String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }
}
