package org.gantry.hub.internal.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.gantry.hub.internal.artifact.ArtifactException.Reason;
import org.gantry.hub.internal.artifact.UrlSigner.Verdict;
import org.gantry.protocol.Limits;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlaceholderResolverTest {
  private static final Instant T0 = Instant.parse("2026-12-02T12:00:00Z");
  private static final String BASE = "http://127.0.0.1:8090";

  @TempDir Path dir;
  private TestClock clock;
  private UrlSigner signer;
  private PlaceholderResolver resolver;

  @BeforeEach
  void setUp() throws Exception {
    ArtifactStore store = new ArtifactStore(dir.resolve("artifacts"));
    for (String key :
        List.of("fw-bucket/gw/v2.tar.gz", "fw-bucket/gw/v2.sig", "cfg-bucket/site 7.json")) {
      store.put(key, new ByteArrayInputStream(key.getBytes(StandardCharsets.UTF_8)), 100, null);
    }
    clock = new TestClock(T0);
    signer = UrlSigner.open(dir, URI.create(BASE), clock);
    resolver = new PlaceholderResolver(store, signer);
  }

  private static String placeholder(String url) {
    return "${aws:iot:s3-presigned-url:" + url + "}";
  }

  private Verdict check(String url) {
    UrlSignerTest.Parts p = UrlSignerTest.Parts.of(url);
    return signer.verify("GET", p.key(), p.expires(), p.signature());
  }

  @Test
  void replacesEveryPlaceholderWithAUrlValidForTheLifetime() throws Exception {
    String doc =
        "{\"operation\": \"firmware-update\",\n"
            + " \"url\": \""
            + placeholder("https://s3.us-east-1.amazonaws.com/fw-bucket/gw/v2.tar.gz")
            + "\",\n \"files\": [{\"sig\": \""
            + "${aws:iot:s3-presigned-url-v2:https://fw-bucket.s3.eu-west-1.amazonaws.com/gw/v2.sig}"
            + "\"}, {\"again\": \""
            + placeholder("https://s3.amazonaws.com/fw-bucket/gw/v2.tar.gz")
            + "\"}],\n \"n\": 1.50, \"other\": \"${not:ours}\"}";
    String out = resolver.resolve(doc, 300);
    JsonObject o = JsonParser.parseString(out).getAsJsonObject();
    String url = o.get("url").getAsString();
    String sig = o.getAsJsonArray("files").get(0).getAsJsonObject().get("sig").getAsString();
    String again = o.getAsJsonArray("files").get(1).getAsJsonObject().get("again").getAsString();
    assertTrue(url.startsWith(BASE + "/artifacts/fw-bucket/gw/v2.tar.gz?expires="), url);
    assertTrue(sig.startsWith(BASE + "/artifacts/fw-bucket/gw/v2.sig?expires="), sig);
    assertEquals(url, again);
    assertEquals(Verdict.VALID, check(url));
    assertEquals(Verdict.VALID, check(sig));
    assertEquals(Long.toString(T0.getEpochSecond() + 300), UrlSignerTest.Parts.of(url).expires());
    // what is not a placeholder is kept exactly
    assertTrue(out.startsWith("{\"operation\": \"firmware-update\",\n \"url\": \""), out);
    assertTrue(out.endsWith("\"}],\n \"n\": 1.50, \"other\": \"${not:ours}\"}"), out);
    clock.advance(Duration.ofMinutes(5));
    assertEquals(Verdict.EXPIRED, check(url));
  }

  @Test
  void readsEscapedPlaceholdersAndEscapesTheResultCorrectly() throws Exception {
    String doc =
        "{\"text\": \"see \\\"${aws:iot:s3-presigned-url:https:\\/\\/s3.us-east-1.amazonaws.com"
            + "\\/cfg-bucket\\/site%207.json}\\\"\\n\\u00e9\\t\\u0001 \\\\ end\","
            + " \"plain\": \"a\\/b \\u0041\"}";
    String out = resolver.resolve(doc, 60);
    JsonObject o = JsonParser.parseString(out).getAsJsonObject();
    String text = o.get("text").getAsString();
    assertTrue(text.startsWith("see \"" + BASE + "/artifacts/cfg-bucket/site%207.json?"), text);
    assertTrue(text.endsWith("\"\n\u00e9\t\u0001 \\ end"), text);
    String url = text.substring("see \"".length(), text.indexOf('"', 5));
    assertEquals(Verdict.VALID, check(url));
    // a string without a placeholder keeps its own escapes
    assertTrue(out.endsWith("\"plain\": \"a\\/b \\u0041\"}"), out);
  }

  @Test
  void aDocumentWithoutPlaceholdersIsReturnedAsItIs() throws Exception {
    String doc = "{\"operation\":\"reboot\",\"url\":\"https://s3.amazonaws.com/fw-bucket/x\"}";
    assertSame(doc, resolver.resolve(doc, 3600));
    assertEquals(List.of(), PlaceholderResolver.artifactKeys(doc));
  }

  @Test
  void aMissingArtifactRefusesTheWholeDocument() throws Exception {
    String doc =
        "{\"a\": \""
            + placeholder("https://s3.us-east-1.amazonaws.com/fw-bucket/gw/v2.tar.gz")
            + "\", \"b\": \""
            + placeholder("https://s3.us-east-1.amazonaws.com/fw-bucket/gw/v3.tar.gz")
            + "\"}";
    ArtifactException e = assertThrows(ArtifactException.class, () -> resolver.resolve(doc, 60));
    assertEquals(Reason.NOT_FOUND, e.reason());
    assertTrue(e.getMessage().contains("'fw-bucket/gw/v3.tar.gz'"), e.getMessage());
    assertEquals(
        List.of("fw-bucket/gw/v2.tar.gz", "fw-bucket/gw/v3.tar.gz"),
        PlaceholderResolver.artifactKeys(doc));
  }

  @Test
  void refusesMalformedPlaceholdersAndDocuments() {
    String[][] cases = {
      {
        "{\"a\": \"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw-bucket/x\"}",
        "INVALID_PLACEHOLDER"
      },
      {
        "{\"a\": \"${aws:iot:s3-presigned-urlx:https://s3.amazonaws.com/fw-bucket/x}\"}",
        "INVALID_PLACEHOLDER"
      },
      {"{\"a\": \"${aws:iot:s3-presigned-url:https://evil.example/fw/x}\"}", "INVALID_PLACEHOLDER"},
      {
        "{\"a\": \"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw-bucket/../../x}\"}",
        "INVALID_PLACEHOLDER"
      },
      {"{\"a\": \"unterminated", "INVALID_DOCUMENT"},
      {"{\"a\": \"bad \\q escape ${aws:iot:s3-presigned-url:x}\"}", "INVALID_DOCUMENT"},
      {"{\"a\": \"short \\u12\"}", "INVALID_DOCUMENT"},
      {"{\"a\": \"raw \n newline\"}", "INVALID_DOCUMENT"},
    };
    for (String[] c : cases) {
      ArtifactException e = assertThrows(ArtifactException.class, () -> resolver.resolve(c[0], 60));
      assertEquals(Reason.valueOf(c[1]), e.reason(), c[0] + ": " + e.getMessage());
    }
  }

  @Test
  void refusesLifetimesOutsideTheAwsRange() {
    for (long bad : new long[] {0, 59, 3601, -1}) {
      assertEquals(
          Reason.INVALID_EXPIRY,
          assertThrows(ArtifactException.class, () -> resolver.resolve("{}", bad)).reason());
    }
  }

  @Test
  void isBounded() throws Exception {
    String p = placeholder("https://s3.amazonaws.com/fw-bucket/gw/v2.sig");
    StringBuilder many = new StringBuilder("{\"a\": \"");
    for (int i = 0; i <= PlaceholderResolver.MAX_PLACEHOLDERS; i++) {
      many.append(p);
    }
    String tooMany = many.append("\"}").toString();
    assertTrue(tooMany.length() < Limits.MAX_DOCUMENT_CHARS);
    assertEquals(
        Reason.DOCUMENT_TOO_LARGE,
        assertThrows(ArtifactException.class, () -> resolver.resolve(tooMany, 60)).reason());
    String big = "{\"a\": \"" + "x".repeat(Limits.MAX_DOCUMENT_CHARS) + "\"}";
    assertEquals(
        Reason.DOCUMENT_TOO_LARGE,
        assertThrows(ArtifactException.class, () -> resolver.resolve(big, 60)).reason());
    // by default the resolved document must fit what a gateway accepts
    String nearLimit = "{\"a\": \"" + p + "\", \"pad\": \"";
    String atLimit =
        nearLimit + "y".repeat(Limits.MAX_DOCUMENT_CHARS - nearLimit.length() - 2) + "\"}";
    assertEquals(Limits.MAX_DOCUMENT_CHARS, atLimit.length());
    assertEquals(
        Reason.DOCUMENT_TOO_LARGE,
        assertThrows(ArtifactException.class, () -> resolver.resolve(atLimit, 60)).reason());
    // a document that would outgrow a given bound once its URLs are in
    PlaceholderResolver tight =
        new PlaceholderResolver(new ArtifactStore(dir.resolve("artifacts")), signer, 200);
    String one = "{\"a\": \"" + p + "\", \"pad\": \"" + "y".repeat(100) + "\"}";
    assertTrue(one.length() < 200);
    assertEquals(
        Reason.DOCUMENT_TOO_LARGE,
        assertThrows(ArtifactException.class, () -> tight.resolve(one, 60)).reason());
  }
}
