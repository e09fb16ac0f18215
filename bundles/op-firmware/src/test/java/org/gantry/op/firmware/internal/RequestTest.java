package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationException;
import org.gantry.op.firmware.internal.Request.Format;
import org.gantry.op.firmware.internal.Request.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parameters: the jobdoc bundle's normalised shapes, the schema files, and refusals by field. */
class RequestTest {

  @TempDir Path tmp;

  private Settings settings() {
    return TestConfig.in(tmp).set("signer.cert", "").settings();
  }

  /** ota-http.expected.json of the jobdoc bundle's golden tests, as the engine hands it over. */
  @Test
  void theNormalisedAwsOtaStepIsAccepted() throws Exception {
    Map<String, Object> p = new HashMap<>();
    p.put(
        "url",
        "https://example-bucket.s3.eu-west-1.amazonaws.com/fw/plc-bridge-2.4.1.bin?X-Amz-Signature=0f1e");
    p.put("size", 180243);
    p.put("filePath", "/opt/firmware/plc-bridge.bin");
    p.put(
        "signature",
        "MEUCIQDn3b0kXnZ8c4kq2E7mFWd6tH0V7z+0Hk9k7h8e9b2+ZwIgF6Q3vS0D7Yw9gM2r6x1XgqZ4r0YpTQm8q2c0E1bC0xo=");
    p.put("signatureAlgorithm", "SHA256withECDSA");
    p.put("certFile", "/opt/firmware/signer.crt");
    p.put("fileId", 0);
    p.put("fileType", 0);
    p.put("authScheme", "aws.s3.presigned");
    p.put("protocols", List.of("HTTP"));
    p.put("format", "afr_ota");
    Request r = Request.of(JobParameters.of(p), Kind.FIRMWARE_UPDATE, settings());
    assertEquals(Format.RAW, r.format());
    assertEquals("plc-bridge.bin", r.imageName());
    assertEquals(Request.SignatureKind.ECDSA_P256_SHA256, r.signatureKind());
  }

  /** dc-aws-download-file.expected.json, with unverified downloads allowed. */
  @Test
  void theNormalisedAwsDownloadFileStepIsAccepted() throws Exception {
    Map<String, Object> p =
        Map.of(
            "url",
            "https://example-bucket.s3.eu-west-1.amazonaws.com/tools/probe.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=abc123",
            "filePath",
            "/var/lib/gantry/downloads/probe.tar.gz");
    Settings s = TestConfig.in(tmp).set("allow.unverified", true).settings();
    Request r = Request.of(JobParameters.of(p), Kind.DOWNLOAD_FILE, s);
    assertEquals("/var/lib/gantry/downloads/probe.tar.gz", r.filePath());
  }

  @ParameterizedTest
  @CsvSource({
    "fw.tar.gz, TAR_GZ",
    "fw.tgz, TAR_GZ",
    "fw.TAR, TAR",
    "fw.zip, ZIP",
    "fw.bin, RAW",
    "fw.tar.gz.sig, RAW"
  })
  void theFormatFollowsTheFileNameWhenNotDeclared(String name, Format expected) throws Exception {
    Map<String, Object> p = Map.of("url", "https://h.example/x/" + name, "sha256", "ab".repeat(32));
    assertEquals(
        expected, Request.of(JobParameters.of(p), Kind.FIRMWARE_UPDATE, settings()).format());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "url|ftp://h.example/fw.bin|'url'",
        "url|https:///nohost|'url'",
        "sha256|abc|'sha256'",
        "signature|%%%|'signature'",
        "size|0|'size'",
        "format|rar|'format'",
        "version|../1|'version'",
        "authScheme|aws.custom|'authScheme'"
      })
  void badValuesAreRefusedNamingTheField(String field, String value, String named) {
    Map<String, Object> p = new HashMap<>();
    p.put("url", "https://h.example/fw.bin");
    p.put("sha256", "ab".repeat(32));
    p.put(field, field.equals("size") ? (Object) Integer.parseInt(value) : value);
    OperationException e =
        assertThrows(
            OperationException.class,
            () -> Request.of(JobParameters.of(p), Kind.FIRMWARE_UPDATE, settings()));
    assertEquals(DocumentReason.INVALID_PARAMETERS, e.reason());
    assertTrue(e.rejected());
    assertTrue(e.getMessage().contains(named), e.getMessage());
  }

  @Test
  void aSizeAboveTheCapIsRejected() {
    Map<String, Object> p =
        Map.of("url", "https://h.example/fw.bin", "sha256", "ab".repeat(32), "size", 5_000_000);
    OperationException e =
        assertThrows(
            OperationException.class,
            () ->
                Request.of(
                    JobParameters.of(p),
                    Kind.FIRMWARE_UPDATE,
                    TestConfig.in(tmp).set("max.size.bytes", 1_000_000L).settings()));
    assertEquals(FirmwareReason.SIZE_ABOVE_LIMIT, e.reason());
  }

  /** ota-two-files.expected.json: each step learns the document has two files, and is refused. */
  @ParameterizedTest
  @CsvSource({"app.bin, 0", "cfg.bin, 1"})
  void eachStepOfATwoFileOtaDocumentIsRejected(String file, int fileId) throws Exception {
    Map<String, Object> p = new HashMap<>();
    p.put("url", "https://h.example/" + file);
    p.put("size", 1024);
    p.put("filePath", file);
    p.put("signature", "QUJDREVGR0hJSktM");
    p.put("signatureAlgorithm", "SHA256withECDSA");
    p.put("certFile", "/opt/firmware/signer.crt");
    p.put("fileId", fileId);
    p.put("protocols", List.of("MQTT", "HTTP"));
    p.put("format", "afr_ota");
    p.put("fileCount", 2);
    OperationException e =
        assertThrows(
            OperationException.class,
            () -> Request.of(JobParameters.of(p), Kind.FIRMWARE_UPDATE, settings()));
    assertEquals(FirmwareReason.MULTIPLE_FILES, e.reason());
    assertTrue(e.rejected(), "a document refusal: REJECTED, never retried");
    assertTrue(e.getMessage().startsWith("The AWS OTA document has 2 files"), e.getMessage());

    p.put("fileCount", 1);
    assertEquals(
        file, Request.of(JobParameters.of(p), Kind.FIRMWARE_UPDATE, settings()).imageName());
    p.put("fileCount", 0);
    OperationException zero =
        assertThrows(
            OperationException.class,
            () -> Request.of(JobParameters.of(p), Kind.FIRMWARE_UPDATE, settings()));
    assertEquals(DocumentReason.INVALID_PARAMETERS, zero.reason());
  }

  /** The schema files list exactly the parameters Request accepts. */
  @Test
  void theSchemasListExactlyTheAcceptedParameters() throws Exception {
    assertEquals(
        Set.of(
            "operation",
            "url",
            "size",
            "sha256",
            "signature",
            "signatureAlgorithm",
            "certFile",
            "certificate",
            "filePath",
            "format",
            "version",
            "allowDowngrade",
            "fileId",
            "fileType",
            "fileCount",
            "authScheme",
            "protocols"),
        properties("firmware-update"));
    assertEquals(
        Set.of(
            "operation",
            "url",
            "filePath",
            "size",
            "sha256",
            "signature",
            "signatureAlgorithm",
            "certFile",
            "certificate",
            "runAsUser"),
        properties("download-file"));
    Settings s = TestConfig.in(tmp).set("allow.unverified", true).settings();
    for (String name : properties("firmware-update")) {
      if (!name.equals("operation")) {
        assertAccepted(Kind.FIRMWARE_UPDATE, name, s);
      }
    }
    for (String name : properties("download-file")) {
      if (!name.equals("operation")) {
        assertAccepted(Kind.DOWNLOAD_FILE, name, s);
      }
    }
  }

  private static void assertAccepted(Kind kind, String name, Settings s) {
    Map<String, Object> p = new HashMap<>();
    p.put("url", "https://h.example/fw.bin");
    p.put("filePath", "fw.bin");
    p.put(name, Boolean.TRUE);
    try {
      Request.of(JobParameters.of(p), kind, s);
    } catch (OperationException e) {
      // a wrong type is fine here; an unknown name is not
      assertTrue(!e.getMessage().contains("is not a parameter"), name + ": " + e.getMessage());
    }
  }

  private static Set<String> properties(String op) throws Exception {
    String json;
    try (InputStream in = RequestTest.class.getResourceAsStream("/schema/" + op + ".schema.json")) {
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String props =
        json.substring(json.indexOf("\"properties\""), json.indexOf("\"dependentRequired\""));
    Matcher m = Pattern.compile("(?m)^    \"([A-Za-z0-9]+)\":").matcher(props);
    Set<String> out = new TreeSet<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
