package org.gantry.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Job documents, optional fields, and every record through encode and decode. */
class JobsCodecTest {
  private final JobsCodec codec = new JobsCodec();

  private static JsonObject tree(byte[] b) {
    return JsonParser.parseString(new String(b, StandardCharsets.UTF_8)).getAsJsonObject();
  }

  private static JobExecution execution(String document) {
    return new JobExecution(
        "j1", "T", document, ExecutionStatus.QUEUED, Map.of(), 10L, null, 10L, 1, 1);
  }

  @Test
  void documentOf32768CharactersSurvivesUnchanged() throws Exception {
    String prefix = "{\"operation\":\"diagnostics\",\"pad\":\"";
    String suffix = "\"}";
    String doc =
        prefix + "x".repeat(Limits.MAX_DOCUMENT_CHARS - prefix.length() - suffix.length()) + suffix;
    assertEquals(Limits.MAX_DOCUMENT_CHARS, doc.length());

    byte[] wire = codec.encode(new DescribeAccepted(execution(doc), 1, "c"));
    JsonElement embedded = tree(wire).getAsJsonObject("execution").get("jobDocument");
    assertTrue(embedded.isJsonObject(), "embedded as a JSON value, not a string");
    assertEquals(JsonParser.parseString(doc), embedded);

    DescribeAccepted back = codec.decode(wire, DescribeAccepted.class);
    assertEquals(doc, back.execution().jobDocument());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"operation\":\"diagnostics\"}",
        "{ \"a\" : [ 1 , 2.50 , -0 , 1e3 , true , false , null ] , \"b\" : { } }",
        "{\"s\":\"quote\\\" backslash\\\\ tab\\t nl\\n ctl\\u0001 ls\\u2028 \\u00e9 \\ud83d\\ude00 <&>\"}",
        "[1,2,3]",
        "\"just a string\"",
        "12345678901234567890123",
        "{\"deep\":[[[[{\"x\":[]}]]]]}"
      })
  void documentTextIsCompactAndEqualsGsonsOwn(String doc) throws Exception {
    byte[] wire = codec.encode(new UpdateAccepted(null, doc, 1, null));
    UpdateAccepted back = codec.decode(wire, UpdateAccepted.class);
    assertEquals(JsonParser.parseString(doc).toString(), back.jobDocument());
    assertEquals(JsonParser.parseString(doc), JsonParser.parseString(back.jobDocument()));
  }

  @Test
  void duplicateKeysInsideADocumentAreKeptForTheDocumentParser() throws Exception {
    String payload =
        "{\"timestamp\":1,\"execution\":{\"jobId\":\"j\",\"status\":\"QUEUED\",\"versionNumber\":1,"
            + "\"executionNumber\":1,\"jobDocument\":{\"operation\":\"a\",\"operation\":\"b\"}}}";
    NotifyNext n = codec.decode(payload.getBytes(StandardCharsets.UTF_8), NotifyNext.class);
    assertEquals("{\"operation\":\"a\",\"operation\":\"b\"}", n.execution().jobDocument());
  }

  @Test
  void nestingIsBoundedWithoutOverflowingTheStack() throws Exception {
    String deep = "[".repeat(200) + "]".repeat(200);
    UpdateAccepted ok =
        codec.decode(
            ("{\"jobDocument\":" + deep + ",\"timestamp\":1}").getBytes(StandardCharsets.UTF_8),
            UpdateAccepted.class);
    assertEquals(deep, ok.jobDocument());
    String tooDeep = "[".repeat(100_000) + "]".repeat(100_000);
    for (String payload :
        List.of(
            "{\"jobDocument\":" + tooDeep + ",\"timestamp\":1}",
            "{\"x\":" + tooDeep + ",\"timestamp\":1}")) {
      ProtocolException e =
          assertThrows(
              ProtocolException.class,
              () -> codec.decode(payload.getBytes(StandardCharsets.UTF_8), UpdateAccepted.class));
      assertEquals(ErrorCode.INVALID_JSON, e.code());
      assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("nesting"), e.getMessage());
      assertTrue(e.getMessage().length() < 300, e.getMessage());
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> codec.encode(new UpdateAccepted(null, tooDeep, 1, null)));
  }

  @Test
  void jsonNullDocumentIsAbsent() throws Exception {
    UpdateAccepted a =
        codec.decode(
            "{\"jobDocument\":null,\"timestamp\":3}".getBytes(StandardCharsets.UTF_8),
            UpdateAccepted.class);
    assertNull(a.jobDocument());
    assertFalse(tree(codec.encode(a)).has("jobDocument"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "{", "{\"a\":1}x", "{'a':1}", "{\"a\":NaN}", "[1,]", "not json"})
  void invalidDocumentIsRefusedOnEncode(String doc) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> codec.encode(new DescribeAccepted(execution(doc), 1, null)));
    assertTrue(e.getMessage().contains("jobDocument"), e.getMessage());
  }

  @Test
  void nullFieldsAreOmittedAndAbsentFieldsDecodeAsNull() throws Exception {
    UpdateRequest minimal =
        new UpdateRequest(ExecutionStatus.IN_PROGRESS, null, null, null, null, null, null, null);
    byte[] wire = codec.encode(minimal);
    assertEquals("{\"status\":\"IN_PROGRESS\"}", new String(wire, StandardCharsets.UTF_8));
    assertEquals(minimal, codec.decode(wire, UpdateRequest.class));

    assertEquals(
        "{}", new String(codec.encode(new GetPendingRequest(null)), StandardCharsets.UTF_8));
    assertEquals(
        "{}",
        new String(codec.encode(new DescribeRequest(null, null, null)), StandardCharsets.UTF_8));
    assertEquals(
        "{}",
        new String(codec.encode(new StartNextRequest(null, null, null)), StandardCharsets.UTF_8));
  }

  @Test
  void emptyStatusDetailsInARequestIsKeptAndDiffersFromAbsent() throws Exception {
    // An empty map in an update replaces the stored details; an omitted one keeps them.
    UpdateRequest clear =
        new UpdateRequest(ExecutionStatus.IN_PROGRESS, Map.of(), 2L, null, null, null, null, null);
    byte[] wire = codec.encode(clear);
    assertTrue(tree(wire).getAsJsonObject("statusDetails").entrySet().isEmpty());
    assertEquals(Map.of(), codec.decode(wire, UpdateRequest.class).statusDetails());
  }

  @Test
  void jsonNullCountsAsAbsent() throws Exception {
    UpdateRequest r =
        codec.decode(
            ("{\"status\":\"FAILED\",\"statusDetails\":null,\"expectedVersion\":null,"
                    + "\"clientToken\":null}")
                .getBytes(StandardCharsets.UTF_8),
            UpdateRequest.class);
    assertEquals(
        new UpdateRequest(ExecutionStatus.FAILED, null, null, null, null, null, null, null), r);
  }

  @Test
  void unknownFieldsAreIgnored() throws Exception {
    DescribeAccepted a =
        codec.decode(
            ("{\"execution\":{\"jobId\":\"j\",\"status\":\"QUEUED\",\"versionNumber\":1,"
                    + "\"executionNumber\":1,\"approximateSecondsBeforeTimedOut\":30,"
                    + "\"future\":{\"x\":[1,{\"y\":null}]}},\"timestamp\":1,\"extra\":true}")
                .getBytes(StandardCharsets.UTF_8),
            DescribeAccepted.class);
    assertEquals("j", a.execution().jobId());
  }

  @Test
  void statusDetailsKeepWireOrderAndAreUnmodifiable() throws Exception {
    Map<String, String> details = new LinkedHashMap<>();
    for (String k : List.of("z", "a", "m", "b", "y", "c")) {
      details.put(k, k.toUpperCase(java.util.Locale.ROOT));
    }
    StartNextRequest r = new StartNextRequest(details, null, null);
    details.put("late", "x");
    assertEquals(List.of("z", "a", "m", "b", "y", "c"), List.copyOf(r.statusDetails().keySet()));
    assertThrows(UnsupportedOperationException.class, () -> r.statusDetails().put("k", "v"));
    StartNextRequest back = codec.decode(codec.encode(r), StartNextRequest.class);
    assertEquals(
        List.copyOf(r.statusDetails().keySet()), List.copyOf(back.statusDetails().keySet()));
    assertThrows(UnsupportedOperationException.class, () -> back.statusDetails().clear());
  }

  @Test
  void everyRecordRoundTrips() throws Exception {
    JobExecutionSummary s1 = new JobExecutionSummary("a", 1L, 2L, 3L, 4, 5);
    JobExecutionSummary s2 = new JobExecutionSummary("b", null, null, null, 1, 1);
    JobExecution full =
        new JobExecution(
            "j-1_x",
            "thing:1",
            "{\"k\":[1,2]}",
            ExecutionStatus.IN_PROGRESS,
            Map.of("step", "downloading"),
            1L,
            2L,
            3L,
            7,
            2);
    JobExecutionState state = new JobExecutionState(ExecutionStatus.CANCELED, Map.of("a", "b"), 9);
    Map<ExecutionStatus, List<JobExecutionSummary>> jobs = new LinkedHashMap<>();
    jobs.put(ExecutionStatus.IN_PROGRESS, List.of(s1));
    jobs.put(ExecutionStatus.QUEUED, List.of(s2, s1));
    List<Object> all =
        List.of(
            new GetPendingRequest("c"),
            new DescribeRequest(3L, false, "c"),
            new StartNextRequest(Map.of("k", "v"), 5L, "c"),
            new UpdateRequest(
                ExecutionStatus.REJECTED, Map.of("reason", "bad"), 1L, 2L, true, true, 60L, "c"),
            new GetPendingAccepted(List.of(s1), List.of(s2), 100, "c"),
            new GetPendingAccepted(List.of(), List.of(), 100, null),
            new DescribeAccepted(full, 100, "c"),
            new StartNextAccepted(full, 100, null),
            new StartNextAccepted(null, 100, "c"),
            new UpdateAccepted(state, "{\"op\":1}", 100, "c"),
            new UpdateAccepted(null, null, 100, null),
            new Rejected(ErrorCode.INVALID_STATE_TRANSITION, "over", "c", 100, state),
            new Rejected(ErrorCode.REQUEST_THROTTLED, null, null, 100, null),
            new NotifyNext(100, full),
            new NotifyNext(100, null),
            new Notify(100, jobs),
            new Notify(100, Map.of()),
            full,
            state,
            s1);
    for (Object m : all) {
      assertEquals(m, codec.decode(codec.encode(m), m.getClass()), m.toString());
    }
  }

  @Test
  void everyErrorCodeRoundTripsInARejection() throws Exception {
    for (ErrorCode c : ErrorCode.values()) {
      Rejected r = new Rejected(c, "m", null, 1, null);
      byte[] wire = codec.encode(r);
      assertEquals(c.wireName(), tree(wire).get("code").getAsString());
      assertEquals(r, codec.decode(wire, Rejected.class));
    }
  }

  @Test
  void stringsWithAnyCharactersSurviveAndLoneSurrogatesBecomeReplacementCharacters()
      throws Exception {
    Random random = new Random(42);
    for (int i = 0; i < 500; i++) {
      StringBuilder sb = new StringBuilder();
      int n = random.nextInt(20);
      for (int k = 0; k < n; k++) {
        if (random.nextBoolean()) {
          sb.appendCodePoint(random.nextInt(0x110000));
        } else {
          sb.append((char) random.nextInt(0x10000)); // lone surrogates included
        }
      }
      String s = sb.toString();
      Rejected r = new Rejected(ErrorCode.INTERNAL_ERROR, s, s.isEmpty() ? null : s, 1, null);
      Rejected back = codec.decode(codec.encode(r), Rejected.class);
      String expected = replaceLoneSurrogates(s);
      assertEquals(expected, back.message());
      assertEquals(s.isEmpty() ? null : expected, back.clientToken());
    }
  }

  private static String replaceLoneSurrogates(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      sb.appendCodePoint(Character.isSurrogate((char) cp) && cp < 0x10000 ? 0xFFFD : cp);
      i += Character.charCount(cp);
    }
    return sb.toString();
  }

  @Test
  void loneSurrogateEscapesAreInvalidJson() {
    ProtocolException e =
        assertThrows(
            ProtocolException.class,
            () ->
                codec.decode(
                    "{\"clientToken\":\"a\\ud800b\"}".getBytes(StandardCharsets.UTF_8),
                    GetPendingRequest.class));
    assertEquals(ErrorCode.INVALID_JSON, e.code());
  }

  @Test
  void integralNumbersMayBeWrittenWithAFraction() throws Exception {
    NotifyNext n =
        codec.decode("{\"timestamp\": 1.7E9}".getBytes(StandardCharsets.UTF_8), NotifyNext.class);
    assertEquals(1_700_000_000L, n.timestamp());
  }

  @Test
  void notifyNextOmitsEmptyDetailsButDescribeWritesThem() {
    JobExecution e = execution(null);
    assertFalse(
        tree(codec.encode(new NotifyNext(1, e))).getAsJsonObject("execution").has("statusDetails"));
    assertTrue(
        tree(codec.encode(new DescribeAccepted(e, 1, null)))
            .getAsJsonObject("execution")
            .has("statusDetails"));
    assertTrue(
        tree(codec.encode(new StartNextAccepted(e, 1, null)))
            .getAsJsonObject("execution")
            .has("statusDetails"));
  }

  @Test
  void recordsRefuseMissingRequiredParts() {
    assertThrows(
        NullPointerException.class,
        () -> new UpdateRequest(null, null, null, null, null, null, null, null));
    assertThrows(
        NullPointerException.class, () -> new JobExecutionSummary(null, null, null, null, 1, 1));
    assertThrows(NullPointerException.class, () -> new DescribeAccepted(null, 1, null));
    assertThrows(NullPointerException.class, () -> new Rejected(null, "m", null, 1, null));
    Map<String, String> withNull = new LinkedHashMap<>();
    withNull.put("k", null);
    assertThrows(
        NullPointerException.class,
        () -> new JobExecutionState(ExecutionStatus.QUEUED, withNull, 1));
    assertEquals(Map.of(), new JobExecutionState(ExecutionStatus.QUEUED, null, 1).statusDetails());
    assertEquals(List.of(), new GetPendingAccepted(null, null, 1, null).queuedJobs());
    assertEquals(Map.of(), new Notify(1, null).jobs());
  }
}
