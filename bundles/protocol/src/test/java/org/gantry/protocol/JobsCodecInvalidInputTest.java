package org.gantry.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad payloads give the right error code and a message that names the field. */
class JobsCodecInvalidInputTest {
  private final JobsCodec codec = new JobsCodec();

  private ProtocolException fail(String json, Class<?> type, ErrorCode code, String... inMessage) {
    return fail(json.getBytes(StandardCharsets.UTF_8), type, code, inMessage);
  }

  private ProtocolException fail(
      byte[] payload, Class<?> type, ErrorCode code, String... inMessage) {
    ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(payload, type));
    assertEquals(code, e.code(), e.getMessage());
    for (String s : inMessage) {
      assertTrue(e.getMessage().contains(s), () -> "'" + s + "' not in: " + e.getMessage());
    }
    assertTrue(e.getMessage().endsWith("."), () -> "not a sentence: " + e.getMessage());
    return e;
  }

  @Test
  void malformedUtf8IsInvalidJson() {
    byte[] overlong = {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'};
    fail(overlong, GetPendingRequest.class, ErrorCode.INVALID_JSON, "UTF-8");
    byte[] latin1 = "{\"clientToken\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
    fail(latin1, GetPendingRequest.class, ErrorCode.INVALID_JSON, "UTF-8");
    // CESU-8 encoded surrogate: not UTF-8.
    byte[] surrogate = {
      '{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'
    };
    fail(surrogate, GetPendingRequest.class, ErrorCode.INVALID_JSON, "UTF-8");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "not json",
        "{",
        "{\"clientToken\": \"c1\"",
        "{\"clientToken\": 'c1'}",
        "{clientToken: \"c1\"}",
        "{\"clientToken\": \"c1\",}",
        "{\"a\": NaN}",
        "{\"a\": 01}",
        "{\"a\": \"tab\there\"}",
        "{\"a\": \"\\x\"}",
        "{\"a\": 1} {\"b\": 2}",
        "{\"a\": 1} x"
      })
  void notJsonIsInvalidJson(String text) {
    fail(text, GetPendingRequest.class, ErrorCode.INVALID_JSON);
  }

  @ParameterizedTest
  @ValueSource(strings = {"[]", "[{\"clientToken\": \"c1\"}]", "\"c1\"", "42", "true", "null"})
  void notAnObjectIsInvalidJson(String text) {
    fail(text, GetPendingRequest.class, ErrorCode.INVALID_JSON, "JSON object");
  }

  @Test
  void duplicateKeyInTheEnvelopeIsInvalidJson() {
    fail(
        "{\"status\": \"FAILED\", \"status\": \"SUCCEEDED\"}",
        UpdateRequest.class,
        ErrorCode.INVALID_JSON,
        "\"status\" twice");
  }

  @Test
  void wrongTypesNameTheField() {
    fail(
        "{\"executionNumber\": \"1\"}",
        DescribeRequest.class,
        ErrorCode.INVALID_REQUEST,
        "executionNumber",
        "integer",
        "string");
    fail(
        "{\"executionNumber\": 1.5}",
        DescribeRequest.class,
        ErrorCode.INVALID_REQUEST,
        "executionNumber");
    fail(
        "{\"includeJobDocument\": \"yes\"}",
        DescribeRequest.class,
        ErrorCode.INVALID_REQUEST,
        "includeJobDocument",
        "boolean");
    fail("{\"clientToken\": 7}", GetPendingRequest.class, ErrorCode.INVALID_REQUEST, "clientToken");
    fail(
        "{\"status\": \"FAILED\", \"statusDetails\": [\"a\"]}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "statusDetails",
        "object",
        "array");
    fail(
        "{\"status\": \"FAILED\", \"statusDetails\": {\"n\": 1}}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "statusDetails.n",
        "string");
    fail(
        "{\"status\": \"FAILED\", \"expectedVersion\": 99999999999999999999}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "expectedVersion");
    fail(
        "{\"inProgressJobs\": [{\"jobId\": 5, \"versionNumber\": 1, \"executionNumber\": 1}],"
            + " \"timestamp\": 1}",
        GetPendingAccepted.class,
        ErrorCode.INVALID_REQUEST,
        "inProgressJobs[0].jobId");
    fail(
        "{\"queuedJobs\": {}, \"timestamp\": 1}",
        GetPendingAccepted.class,
        ErrorCode.INVALID_REQUEST,
        "queuedJobs",
        "array");
    fail("{\"timestamp\": \"now\"}", NotifyNext.class, ErrorCode.INVALID_REQUEST, "timestamp");
    fail(
        "{\"execution\": 3, \"timestamp\": 1}",
        StartNextAccepted.class,
        ErrorCode.INVALID_REQUEST,
        "execution",
        "object");
  }

  @Test
  void missingRequiredFieldsNameTheField() {
    fail("{}", UpdateRequest.class, ErrorCode.INVALID_REQUEST, "status", "missing");
    fail("{\"status\": null}", UpdateRequest.class, ErrorCode.INVALID_REQUEST, "status");
    fail("{}", NotifyNext.class, ErrorCode.INVALID_REQUEST, "timestamp", "missing");
    fail("{\"timestamp\": 1}", DescribeAccepted.class, ErrorCode.INVALID_REQUEST, "execution");
    fail(
        "{\"execution\": {\"jobId\": \"j\", \"status\": \"QUEUED\", \"executionNumber\": 1},"
            + " \"timestamp\": 1}",
        DescribeAccepted.class,
        ErrorCode.INVALID_REQUEST,
        "execution.versionNumber",
        "missing");
    fail("{\"timestamp\": 1}", Rejected.class, ErrorCode.INVALID_REQUEST, "code");
  }

  @Test
  void keyNamesInMessagesAreClippedAndHaveNoControlCharacters() {
    String key = "\\n" + "k".repeat(1000);
    ProtocolException e =
        fail(
            "{\"status\": \"FAILED\", \"statusDetails\": {\"" + key + "\": 1}}",
            UpdateRequest.class,
            ErrorCode.INVALID_REQUEST,
            "statusDetails.?kkk");
    assertTrue(e.getMessage().length() < 400, e.getMessage());
  }

  @Test
  void unknownStatusIsInvalidRequest() {
    fail(
        "{\"status\": \"DONE\"}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "status",
        "\"DONE\"");
    fail("{\"status\": \"succeeded\"}", UpdateRequest.class, ErrorCode.INVALID_REQUEST, "status");
    fail(
        "{\"executionState\": {\"status\": \"PAUSED\", \"versionNumber\": 1}, \"timestamp\": 1}",
        UpdateAccepted.class,
        ErrorCode.INVALID_REQUEST,
        "executionState.status");
    fail(
        "{\"timestamp\": 1, \"jobs\": {\"WAITING\": []}}",
        Notify.class,
        ErrorCode.INVALID_REQUEST,
        "jobs.WAITING");
  }

  @Test
  void clientTokenMustBe1To64Characters() throws Exception {
    String t64 = "t".repeat(64);
    assertEquals(
        t64,
        codec
            .decode(
                ("{\"clientToken\": \"" + t64 + "\"}").getBytes(StandardCharsets.UTF_8),
                GetPendingRequest.class)
            .clientToken());
    fail(
        "{\"clientToken\": \"" + "t".repeat(65) + "\"}",
        GetPendingRequest.class,
        ErrorCode.INVALID_REQUEST,
        "clientToken",
        "65");
    fail(
        "{\"clientToken\": \"\"}",
        StartNextRequest.class,
        ErrorCode.INVALID_REQUEST,
        "clientToken");
    fail(
        "{\"status\": \"FAILED\", \"clientToken\": \"" + "t".repeat(65) + "\"}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "clientToken");
    fail(
        "{\"clientToken\": \"" + "t".repeat(65) + "\"}",
        DescribeRequest.class,
        ErrorCode.INVALID_REQUEST,
        "clientToken");
  }

  @Test
  void answersDoNotValidateTheClientToken() throws Exception {
    // Only requests are checked: a gateway must still read an answer to its own odd token.
    String t65 = "t".repeat(65);
    Rejected r =
        codec.decode(
            ("{\"code\": \"InvalidRequest\", \"clientToken\": \"" + t65 + "\", \"timestamp\": 1}")
                .getBytes(StandardCharsets.UTF_8),
            Rejected.class);
    assertEquals(t65, r.clientToken());
  }

  @Test
  void stepTimeoutMustBe1To10080() throws Exception {
    fail(
        "{\"stepTimeoutInMinutes\": 0}",
        StartNextRequest.class,
        ErrorCode.INVALID_REQUEST,
        "stepTimeoutInMinutes",
        "0");
    fail(
        "{\"status\": \"IN_PROGRESS\", \"stepTimeoutInMinutes\": 10081}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "stepTimeoutInMinutes",
        "10081");
    fail(
        "{\"stepTimeoutInMinutes\": -1}",
        StartNextRequest.class,
        ErrorCode.INVALID_REQUEST,
        "stepTimeoutInMinutes");
    assertEquals(
        1L,
        codec
            .decode(bytes("{\"stepTimeoutInMinutes\": 1}"), StartNextRequest.class)
            .stepTimeoutInMinutes());
    assertEquals(
        10080L,
        codec
            .decode(bytes("{\"stepTimeoutInMinutes\": 10080}"), StartNextRequest.class)
            .stepTimeoutInMinutes());
  }

  @Test
  void versionsAndExecutionNumbersStartAt1() throws Exception {
    fail(
        "{\"status\": \"FAILED\", \"expectedVersion\": 0}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "expectedVersion");
    fail(
        "{\"status\": \"FAILED\", \"executionNumber\": 0}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "executionNumber");
    fail(
        "{\"executionNumber\": -3}",
        DescribeRequest.class,
        ErrorCode.INVALID_REQUEST,
        "executionNumber");
    UpdateRequest r =
        codec.decode(
            bytes("{\"status\": \"FAILED\", \"expectedVersion\": 1}"), UpdateRequest.class);
    assertEquals(1L, r.expectedVersion());
    assertEquals(null, r.executionNumber());
  }

  @Test
  void statusDetailsMustFitTheLimits() {
    fail(
        "{\"statusDetails\": {\"bad key\": \"v\"}}",
        StartNextRequest.class,
        ErrorCode.INVALID_REQUEST,
        "statusDetails",
        "bad key");
    fail(
        "{\"status\": \"FAILED\", \"statusDetails\": {\"k\": \"" + "v".repeat(1025) + "\"}}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "statusDetails",
        "\"k\"",
        "1025");
    fail(
        "{\"status\": \"FAILED\", \"statusDetails\": {\"k\": \"line\\u0007bell\"}}",
        UpdateRequest.class,
        ErrorCode.INVALID_REQUEST,
        "statusDetails",
        "\"k\"",
        "U+0007");
    fail(
        "{\"statusDetails\": {\"" + "k".repeat(129) + "\": \"v\"}}",
        StartNextRequest.class,
        ErrorCode.INVALID_REQUEST,
        "statusDetails",
        "129");
    fail(
        "{\"statusDetails\": {\"k\": \"\"}}",
        StartNextRequest.class,
        ErrorCode.INVALID_REQUEST,
        "statusDetails",
        "empty");
  }

  @Test
  void unknownErrorCodeBecomesInternalError() throws Exception {
    Rejected r =
        codec.decode(
            bytes("{\"code\": \"SomethingNew\", \"message\": \"m\", \"timestamp\": 5}"),
            Rejected.class);
    assertEquals(ErrorCode.INTERNAL_ERROR, r.code());
    assertEquals("m", r.message());
  }

  @Test
  void unsupportedTypesAreProgrammingErrors() {
    assertThrows(IllegalArgumentException.class, () -> codec.decode(bytes("{}"), String.class));
    assertThrows(IllegalArgumentException.class, () -> codec.encode("{}"));
    assertThrows(IllegalArgumentException.class, () -> codec.encode(null));
    assertThrows(NullPointerException.class, () -> codec.decode(null, GetPendingRequest.class));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
