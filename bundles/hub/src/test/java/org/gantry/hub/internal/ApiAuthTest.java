package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iot.IotClient;
import software.amazon.awssdk.services.iot.model.AttributePayload;
import software.amazon.awssdk.services.iot.model.IotException;
import software.amazon.awssdk.services.iot.model.ThingAttribute;

/** The management API's authentication: SigV4 by the AWS SDK's own signer, and bearer tokens. */
class ApiAuthTest {
  private static final String KEY = "AKIDGANTRYTEST";
  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY";
  private static final String TOKEN = "tok-0123456789abcdef-ops";
  private static final String DOC = "{\"operation\":\"diagnostics\"}";

  @TempDir Path dir;
  private HubComponent hub;
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    if (hub != null) {
      hub.stop();
    }
  }

  private void start(AuthSettings auth) throws Exception {
    hub =
        new HubComponent(
            settings("127.0.0.1"),
            Artifacts.Settings.loopback(),
            AclSettings.none(),
            auth,
            Clock.systemUTC());
  }

  private HubSettings settings(String host) throws Exception {
    return new HubSettings(
        "tcp://127.0.0.1:" + TestBroker.freePort(),
        "gantry-hub",
        host,
        TestBroker.freePort(),
        dir.resolve("data"),
        new Arns("us-east-1", "123456789012"));
  }

  private IotClient client(String key, String secret) {
    return IotClient.builder()
        .endpointOverride(URI.create("http://127.0.0.1:" + hub.apiPort()))
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(key, secret)))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  @Test
  void theSdkSignedWithAConfiguredKeyIsServed() throws Exception {
    start(new AuthSettings(Map.of(KEY, SECRET), List.of()));
    try (IotClient iot = client(KEY, SECRET)) {
      // Names and query values that need percent-encoding, twice over in the canonical request.
      iot.createThing(
          b ->
              b.thingName("plant:7_gw-1")
                  .attributePayload(
                      AttributePayload.builder().attributes(Map.of("site", "a:b/c,d@e")).build()));
      assertEquals("plant:7_gw-1", iot.describeThing(b -> b.thingName("plant:7_gw-1")).thingName());
      assertEquals(
          List.of("plant:7_gw-1"),
          iot
              .listThings(b -> b.attributeName("site").attributeValue("a:b/c,d@e").maxResults(5))
              .things()
              .stream()
              .map(ThingAttribute::thingName)
              .toList());
      iot.createJob(b -> b.jobId("j1").targets("plant:7_gw-1").document(DOC));
      iot.attachThingPrincipal(b -> b.thingName("plant:7_gw-1").principal("gw-1"));
      assertEquals(
          List.of("plant:7_gw-1"), iot.listPrincipalThings(b -> b.principal("gw-1")).things());
    }
  }

  @Test
  void wrongSecretsUnknownKeysStaleDatesTamperedBodiesAndMissingHeadersAreRefused()
      throws Exception {
    start(new AuthSettings(Map.of(KEY, SECRET), List.of()));
    try (IotClient wrong = client(KEY, "not-the-secret")) {
      IotException e =
          assertThrows(IotException.class, () -> wrong.listThings(b -> b.maxResults(1)));
      assertEquals(403, e.statusCode());
      assertEquals("InvalidSignatureException", e.awsErrorDetails().errorCode());
      assertTrue(e.getMessage().contains("signature does not match"), e.getMessage());
    }
    try (IotClient unknown = client("AKIDUNKNOWN", SECRET)) {
      IotException e =
          assertThrows(IotException.class, () -> unknown.listThings(b -> b.maxResults(1)));
      assertEquals(403, e.statusCode());
      assertEquals("UnrecognizedClientException", e.awsErrorDetails().errorCode());
    }

    URI jobs = URI.create("http://127.0.0.1:" + hub.apiPort() + "/jobs/j1");
    String body = "{\"targets\":[\"gw-1\"],\"document\":" + quote(DOC) + "}";

    // The signature is sound but 20 minutes old.
    Map<String, List<String>> stale =
        sign("PUT", jobs, body, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-20)));
    HttpResponse<String> r = send("PUT", jobs, stale, body);
    assertEquals(403, r.statusCode(), r.body());
    assertEquals("InvalidSignatureException", errorType(r));
    assertTrue(r.body().contains("15 minutes"), r.body());

    // Signed for one body, sent with another.
    Map<String, List<String>> signed = sign("PUT", jobs, body, Clock.systemUTC());
    r = send("PUT", jobs, signed, body.replace("gw-1", "gw-2"));
    assertEquals(403, r.statusCode(), r.body());
    assertEquals("InvalidSignatureException", errorType(r));

    // A signed header left out.
    Map<String, List<String>> noDate = new java.util.HashMap<>(signed);
    noDate.remove("X-Amz-Date");
    r = send("PUT", jobs, noDate, body);
    assertEquals(403, r.statusCode(), r.body());
    assertTrue(r.body().contains("x-amz-date"), r.body());

    // No Authorization at all.
    r = send("GET", jobs, Map.of(), null);
    assertEquals(403, r.statusCode(), r.body());
    assertEquals("MissingAuthenticationTokenException", errorType(r));

    // And the untouched request goes through, which shows the refusals were the changes'.
    r = send("PUT", jobs, signed, body);
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  void aBearerTokenWorksWithAPlainHttpClientAlsoForArtifactUploads() throws Exception {
    start(new AuthSettings(Map.of(), List.of(TOKEN)));
    URI base = URI.create("http://127.0.0.1:" + hub.apiPort());
    HttpResponse<String> ok =
        http.send(
            HttpRequest.newBuilder(base.resolve("/things/gw-1"))
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, ok.statusCode(), ok.body());

    HttpResponse<String> bad =
        http.send(
            HttpRequest.newBuilder(base.resolve("/things"))
                .header("Authorization", "Bearer " + TOKEN + "x")
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(403, bad.statusCode());
    assertEquals("UnrecognizedClientException", errorType(bad));

    HttpResponse<String> upload =
        http.send(
            HttpRequest.newBuilder(base.resolve("/artifacts/fw/app.bin"))
                .header("Authorization", "Bearer " + TOKEN)
                .PUT(HttpRequest.BodyPublishers.ofString("firmware"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, upload.statusCode(), upload.body());
    HttpResponse<String> anonymous =
        http.send(
            HttpRequest.newBuilder(base.resolve("/artifacts/fw/other.bin"))
                .PUT(HttpRequest.BodyPublishers.ofString("firmware"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(403, anonymous.statusCode());
    assertEquals("MissingAuthenticationTokenException", errorType(anonymous));
  }

  @Test
  void aSignedArtifactUploadIsCheckedAgainstItsSignedHash() throws Exception {
    start(new AuthSettings(Map.of(KEY, SECRET), List.of()));
    URI good = URI.create("http://127.0.0.1:" + hub.apiPort() + "/artifacts/fw/a.bin");
    String body = "firmware image";
    String hash = HexFormat.of().formatHex(ApiAuth.sha256(body.getBytes(StandardCharsets.UTF_8)));
    Map<String, List<String>> signed =
        sign("PUT", good, body, Clock.systemUTC(), Map.of("x-amz-content-sha256", hash));
    HttpResponse<String> r = send("PUT", good, signed, body);
    assertEquals(200, r.statusCode(), r.body());

    URI other = URI.create("http://127.0.0.1:" + hub.apiPort() + "/artifacts/fw/b.bin");
    signed = sign("PUT", other, body, Clock.systemUTC(), Map.of("x-amz-content-sha256", hash));
    r = send("PUT", other, signed, "firmware imagf");
    assertTrue(r.statusCode() >= 400, r.body());
    assertTrue(r.body().contains("x-amz-content-sha256"), r.body());

    // The SDK's signer sends the hash header; without it an upload cannot be checked.
    Map<String, List<String>> noHash =
        new java.util.HashMap<>(sign("PUT", other, body, Clock.systemUTC()));
    noHash.keySet().removeIf(k -> k.equalsIgnoreCase("x-amz-content-sha256"));
    r = send("PUT", other, noHash, body);
    assertEquals(403, r.statusCode(), r.body());
    assertTrue(r.body().contains("x-amz-content-sha256"), r.body());
  }

  @Test
  void aHostOtherThanLoopbackNeedsCredentials() throws Exception {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new HubComponent(
                    settings("0.0.0.0"),
                    Artifacts.Settings.loopback(),
                    AclSettings.none(),
                    AuthSettings.none(),
                    Clock.systemUTC()));
    assertTrue(e.getMessage().contains("api.auth.keys"), e.getMessage());
    assertTrue(e.getMessage().contains("api.auth.tokens"), e.getMessage());
  }

  @Test
  void credentialsComeFromTheKeysTheTokensAndTheFile() throws Exception {
    Path file = dir.resolve("auth");
    Files.writeString(
        file, "# operators\nkey AKIDFILE secret-from-file\n\ntoken tok-from-the-file-0001\n");
    AuthSettings a =
        AuthSettings.of("AKID1:s1, AKID2:s/2+x", "tok-0123456789abcdef", file.toString());
    assertEquals(Map.of("AKID1", "s1", "AKID2", "s/2+x", "AKIDFILE", "secret-from-file"), a.keys());
    assertEquals(List.of("tok-0123456789abcdef", "tok-from-the-file-0001"), a.tokens());
    IllegalArgumentException noColon =
        assertThrows(IllegalArgumentException.class, () -> AuthSettings.of("AKID1", "", ""));
    assertTrue(noColon.getMessage().contains("api.auth.keys"));
    IllegalArgumentException shortToken =
        assertThrows(IllegalArgumentException.class, () -> AuthSettings.of("", "short", ""));
    assertTrue(shortToken.getMessage().contains("api.auth.tokens"));
    Files.writeString(file, "secret AKID x\n");
    IllegalArgumentException badLine =
        assertThrows(
            IllegalArgumentException.class, () -> AuthSettings.of("", "", file.toString()));
    assertTrue(badLine.getMessage().contains("line 1"), badLine.getMessage());
    assertTrue(AuthSettings.of("", "", "").keys().isEmpty());
  }

  // ------------------------------------------------------------------ helpers

  private static Map<String, List<String>> sign(String method, URI uri, String body, Clock clock) {
    return sign(method, uri, body, clock, Map.of());
  }

  /** Signs with the AWS SDK's own SigV4 signer, as IotClient does. */
  private static Map<String, List<String>> sign(
      String method, URI uri, String body, Clock clock, Map<String, String> extra) {
    SdkHttpRequest.Builder b =
        SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
    extra.forEach(b::putHeader);
    if (body != null) {
      b.putHeader("Content-Type", "application/json");
    }
    SignedRequest signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.identity(AwsCredentialsIdentity.create(KEY, SECRET))
                        .request(b.build())
                        .payload(body == null ? null : ContentStreamProvider.fromUtf8String(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "iot")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                        .putProperty(HttpSigner.SIGNING_CLOCK, clock.withZone(ZoneOffset.UTC)));
    Map<String, List<String>> headers = new java.util.HashMap<>(signed.request().headers());
    headers.remove("Host");
    return headers;
  }

  private HttpResponse<String> send(
      String method, URI uri, Map<String, List<String>> headers, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    headers.forEach((k, vs) -> vs.forEach(v -> b.header(k, v)));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String errorType(HttpResponse<String> r) {
    return r.headers().firstValue("x-amzn-ErrorType").orElse("");
  }

  private static String quote(String s) {
    return new com.google.gson.JsonPrimitive(s).toString();
  }
}
