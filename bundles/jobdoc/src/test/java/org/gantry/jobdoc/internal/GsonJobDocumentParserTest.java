package org.gantry.jobdoc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobDocumentParser;
import org.gantry.api.document.JobStep;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GsonJobDocumentParserTest {

  private final GsonJobDocumentParser parser =
      new GsonJobDocumentParser(GsonJobDocumentParser.DEFAULT_DEPTH);

  private JobDocumentException refused(String json) {
    return assertThrows(JobDocumentException.class, () -> parser.parse(json), json);
  }

  private void assertRefused(DocumentReason reason, String json) {
    JobDocumentException e = refused(json);
    assertEquals(reason, e.reason(), e.getMessage());
    assertFalse(e.getMessage().isBlank());
  }

  // ---- Gantry's own format ----

  @Test
  void singleOperationBecomesOneStepWithoutTheOperationKey() throws Exception {
    JobDocument doc =
        parser.parse(
            "{\"operation\": \"firmware-update\", \"url\": \"https://x/y\", \"size\": 1024,"
                + " \"force\": false, \"note\": null, \"tags\": [\"a\", \"b\"],"
                + " \"meta\": {\"k\": \"v\", \"n\": [1, {\"deep\": true}]}}");
    assertEquals(1, doc.steps().size());
    JobStep step = doc.steps().get(0);
    assertEquals("firmware-update", step.operation());
    JobParameters p = step.parameters();
    assertEquals(List.of("url", "size", "force", "note", "tags", "meta"), List.copyOf(p.names()));
    assertEquals("https://x/y", p.requireString("url"));
    assertEquals(1024L, p.integer("size").getAsLong());
    assertFalse(p.bool("force").orElseThrow());
    assertTrue(p.has("note"));
    assertNull(p.asMap().get("note"));
    assertEquals(List.of("a", "b"), p.strings("tags"));
    JobParameters meta = p.object("meta").orElseThrow();
    assertEquals("v", meta.requireString("k"));
    List<?> n = (List<?>) meta.asMap().get("n");
    assertEquals(new BigDecimal("1"), n.get(0));
    assertEquals(JobParameters.of(Map.of("deep", true)), n.get(1));
  }

  @Test
  void numbersKeepTheDigitsAsWritten() throws Exception {
    JobParameters p =
        parser
            .parse(
                "{\"operation\": \"x\", \"a\": 1.50, \"b\": 12345678901234567890.000000000000000001,"
                    + " \"c\": -0.1e-3, \"d\": 1E+400, \"e\": 0.1}")
            .steps()
            .get(0)
            .parameters();
    Map<String, Object> m = p.asMap();
    assertEquals("1.50", ((BigDecimal) m.get("a")).toString());
    assertEquals(
        new BigDecimal("12345678901234567890.000000000000000001"),
        m.get("b"),
        "no double rounding");
    assertEquals(new BigDecimal("-0.1e-3"), m.get("c"));
    assertEquals(new BigDecimal("1E+400"), m.get("d"));
    // 0.1 is not exactly representable as a double; as written it must stay exactly 0.1
    assertEquals(new BigDecimal("0.1"), m.get("e"));
  }

  @Test
  void stepsBecomeOneStepEachInOrder() throws Exception {
    JobDocument doc =
        parser.parse(
            "{\"steps\": [{\"operation\": \"diagnostics\"},"
                + " {\"operation\": \"reboot\", \"delaySeconds\": 5}]}");
    assertEquals(2, doc.steps().size());
    assertEquals("diagnostics", doc.steps().get(0).operation());
    assertEquals(JobParameters.empty(), doc.steps().get(0).parameters());
    assertEquals("reboot", doc.steps().get(1).operation());
    assertEquals(5L, doc.steps().get(1).parameters().integer("delaySeconds").getAsLong());
  }

  @Test
  void thirtyTwoStepsAreAcceptedAndThirtyThreeAreNot() throws Exception {
    assertEquals(32, parser.parse(stepsDocument(32)).steps().size());
    JobDocumentException e = refused(stepsDocument(33));
    assertEquals(DocumentReason.UNKNOWN_FORMAT, e.reason());
    assertTrue(e.getMessage().contains("33 steps"), e.getMessage());
  }

  private static String stepsDocument(int n) {
    StringBuilder sb = new StringBuilder("{\"steps\": [");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"operation\": \"op").append(i).append("\"}");
    }
    return sb.append("]}").toString();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a",
        "0",
        "diagnostics",
        "firmware-update",
        "vendor.acme_valve-2",
        "a123456789012345678901234567890123456789012345678901234567890123"
      })
  void validOperationTypesAreAccepted(String type) throws Exception {
    assertEquals(
        type, parser.parse("{\"operation\": \"" + type + "\"}").steps().get(0).operation());
  }

  // ---- size ----

  @Test
  void aDocumentOfExactlyTheLimitIsAccepted() throws Exception {
    String doc = padded(JobDocumentParser.MAX_CHARACTERS);
    assertEquals(32_768, doc.length());
    JobDocument parsed = parser.parse(doc);
    assertEquals("diagnostics", parsed.steps().get(0).operation());
  }

  @Test
  void oneCharacterOverTheLimitIsTooLarge() {
    JobDocumentException e = refused(padded(JobDocumentParser.MAX_CHARACTERS + 1));
    assertEquals(DocumentReason.TOO_LARGE, e.reason());
    assertTrue(e.getMessage().contains("32769"), e.getMessage());
  }

  @Test
  void sizeIsCheckedBeforeParsing() {
    // Malformed and too deep as well: the size verdict must come first.
    assertRefused(DocumentReason.TOO_LARGE, "[".repeat(JobDocumentParser.MAX_CHARACTERS + 1));
  }

  private static String padded(int length) {
    String head = "{\"operation\": \"diagnostics\", \"pad\": \"";
    String tail = "\"}";
    return head + "x".repeat(length - head.length() - tail.length()) + tail;
  }

  // ---- malformed ----

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "{",
        "{\"operation\": \"x\"",
        "{\"operation\": \"x\",}",
        "{\"operation\": \"x\"} trailing",
        "{\"operation\": \"x\"}{}",
        "{\"operation\": \"x\"} {\"operation\": \"y\"}",
        "{'operation': 'x'}",
        "{operation: \"x\"}",
        "{\"operation\": \"x\" /* comment */}",
        "{\"operation\": \"x\", \"n\": NaN}",
        "{\"operation\": \"x\", \"n\": 012}",
        "{\"operation\": \"x\", \"n\": 1.}",
        "{\"operation\": \"x\", \"n\": +1}",
        "{\"operation\": \"x\"; \"n\": 1}",
        "{\"operation\" = \"x\"}",
        "{\"operation\": \"x\", \"s\": \"a\\qb\"}",
        "{\"operation\": \"x\", \"s\": \"tab\there\"}",
        "{\"operation\": \"x\", \"n\": 1e99999999999}",
      })
  void malformedJsonIsRefused(String json) {
    assertRefused(DocumentReason.MALFORMED_JSON, json);
  }

  @Test
  void aLeadingByteOrderMarkIsIgnored() throws Exception {
    // RFC 8259 section 8.1 lets parsers ignore a BOM; Gson does, and refusing it would help no one.
    assertEquals("x", parser.parse("\uFEFF{\"operation\": \"x\"}").steps().get(0).operation());
  }

  @ParameterizedTest
  @ValueSource(strings = {"[]", "\"operation\"", "42", "true", "null", "[{\"operation\": \"x\"}]"})
  void aTopLevelOtherThanAnObjectIsMalformed(String json) {
    JobDocumentException e = refused(json);
    assertEquals(DocumentReason.MALFORMED_JSON, e.reason());
    assertTrue(e.getMessage().contains("must be a JSON object"), e.getMessage());
  }

  @Test
  void nullIsRefused() {
    assertRefused(DocumentReason.MALFORMED_JSON, null);
  }

  @Test
  void malformedMessageSaysWhere() {
    JobDocumentException e = refused("{\"operation\": \"x\",\n \"a\": [1, 2,, 3]}");
    assertEquals(DocumentReason.MALFORMED_JSON, e.reason());
    assertTrue(e.getMessage().contains("line 2 column"), e.getMessage());
    assertTrue(e.getMessage().contains("$.a"), e.getMessage());
    assertFalse(e.getMessage().contains("http"), "no programmer help links: " + e.getMessage());
    assertFalse(e.getMessage().contains("Strictness"), e.getMessage());
  }

  @Test
  void trailingGarbageMessageSaysWhere() {
    JobDocumentException e = refused("{\"operation\": \"x\"}\n\nxyz");
    assertEquals(DocumentReason.MALFORMED_JSON, e.reason());
    assertTrue(e.getMessage().contains("line 3"), e.getMessage());
  }

  // ---- depth ----

  @Test
  void sixtyFourLevelsAreAcceptedAndSixtyFiveAreTooDeep() throws Exception {
    JobParameters p = parser.parse(nested(64)).steps().get(0).parameters();
    assertTrue(p.has("a"));
    JobDocumentException e = refused(nested(65));
    assertEquals(DocumentReason.TOO_DEEP, e.reason());
    assertTrue(e.getMessage().contains("64"), e.getMessage());
  }

  /** A document whose nesting, counting the top-level object as 1, is {@code depth}. */
  private static String nested(int depth) {
    int arrays = depth - 1;
    return "{\"operation\": \"x\", \"a\": " + "[".repeat(arrays) + "]".repeat(arrays) + "}";
  }

  @Test
  void theDepthLimitIsConfigurable() throws Exception {
    GsonJobDocumentParser shallow = new GsonJobDocumentParser(5);
    shallow.parse(nested(5));
    JobDocumentException e =
        assertThrows(JobDocumentException.class, () -> shallow.parse(nested(6)));
    assertEquals(DocumentReason.TOO_DEEP, e.reason());
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 0, 2, 256, Integer.MAX_VALUE})
  void anInvalidDepthLimitNamesTheProperty(int depth) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new GsonJobDocumentParser(depth));
    assertTrue(e.getMessage().contains("max.depth"), e.getMessage());
  }

  @Test
  void aDocumentOfOnlyBracketsFailsFastOnASmallStack() throws Exception {
    int room = JobDocumentParser.MAX_CHARACTERS - 10;
    String arrays = "{\"a\":" + "[".repeat(room) + "}";
    String objects = "{" + "\"a\":{".repeat((JobDocumentParser.MAX_CHARACTERS - 2) / 5) + "}";
    assertTrue(objects.length() <= JobDocumentParser.MAX_CHARACTERS);
    // A 64 KB stack would overflow long before 32,000 levels if the reader recursed per level.
    assertEquals(DocumentReason.TOO_DEEP, parseOnSmallStack(arrays));
    assertEquals(DocumentReason.TOO_DEEP, parseOnSmallStack(objects));
  }

  private DocumentReason parseOnSmallStack(String json) throws InterruptedException {
    AtomicReference<Object> outcome = new AtomicReference<>();
    Thread t =
        new Thread(
            null,
            () -> {
              try {
                parser.parse(json);
                outcome.set("accepted");
              } catch (JobDocumentException e) {
                outcome.set(e.reason());
              } catch (Throwable e) { // StackOverflowError is what this test guards against
                outcome.set(e);
              }
            },
            "small-stack",
            64 * 1024);
    t.start();
    t.join(10_000);
    assertFalse(t.isAlive(), "parser did not finish");
    return assertInstanceOf(DocumentReason.class, outcome.get(), String.valueOf(outcome.get()));
  }

  // ---- duplicate keys ----

  @Test
  void aDuplicateTopLevelKeyIsNamed() {
    JobDocumentException e = refused("{\"operation\": \"a\", \"operation\": \"b\"}");
    assertEquals(DocumentReason.DUPLICATE_KEY, e.reason());
    assertTrue(e.getMessage().contains("\"operation\""), e.getMessage());
    assertTrue(e.getMessage().contains("$.operation"), e.getMessage());
  }

  @Test
  void aDuplicateNestedKeyIsNamedWithItsPath() {
    JobDocumentException e =
        refused("{\"operation\": \"x\", \"o\": {\"list\": [{\"k\": 1, \"k\": null}]}}");
    assertEquals(DocumentReason.DUPLICATE_KEY, e.reason());
    assertTrue(e.getMessage().contains("\"k\""), e.getMessage());
    assertTrue(e.getMessage().contains("$.o.list[0].k"), e.getMessage());
  }

  @Test
  void aDuplicateKeyInsideAStepIsRefused() {
    assertRefused(
        DocumentReason.DUPLICATE_KEY,
        "{\"steps\": [{\"operation\": \"a\"}, {\"operation\": \"b\", \"x\": 1, \"x\": 1}]}");
  }

  @Test
  void keysThatDifferOnlyInCaseAreNotDuplicates() throws Exception {
    JobParameters p =
        parser.parse("{\"operation\": \"x\", \"k\": 1, \"K\": 2}").steps().get(0).parameters();
    assertEquals(2, p.names().size());
  }

  // ---- format detection ----

  @Test
  void awsOtaDocumentsWithoutAnHttpsUrlAreRefusedByName() {
    JobDocumentException e =
        refused(
            "{\"afr_ota\": {\"protocols\": [\"MQTT\"], \"streamname\": \"s1\","
                + " \"files\": [{\"filepath\": \"/a\", \"filesize\": 3,"
                + " \"sig-sha256-ecdsa\": \"MEU=\"}]}}");
    assertEquals(DocumentReason.INVALID_PARAMETERS, e.reason());
    assertTrue(e.getMessage().contains("afr_ota.files[0]"), e.getMessage());
    assertTrue(e.getMessage().contains("MQTT streams"), e.getMessage());
  }

  @Test
  void awsDeviceClientDocumentsAreReadAsTheirOwnFormat() throws Exception {
    JobDocument d =
        parser.parse(
            "{\"version\": \"1.0\", \"steps\": [{\"action\": {\"name\": \"Reboot\","
                + " \"type\": \"runHandler\", \"input\": {\"handler\": \"reboot.sh\"}}}]}");
    assertEquals(List.of(new JobStep("reboot", JobParameters.empty())), d.steps());
  }

  // ---- Gantry's own final step ----

  @Test
  void aFinalStepComesLastAndIsMarkedFinal() throws Exception {
    JobDocument d =
        parser.parse(
            "{\"steps\": [{\"operation\": \"a\"}, {\"operation\": \"b\", \"n\": 1}],"
                + " \"finalStep\": {\"operation\": \"cleanup\", \"what\": \"tmp\"}}");
    JobStep cleanup = new JobStep("cleanup", JobParameters.of(Map.of("what", "tmp")));
    assertEquals(3, d.steps().size());
    assertEquals("a", d.steps().get(0).operation());
    assertEquals("b", d.steps().get(1).operation());
    assertEquals(cleanup, d.steps().get(2));
    assertEquals(cleanup, d.finalStep().orElseThrow());
    assertTrue(parser.parse("{\"steps\": [{\"operation\": \"a\"}]}").finalStep().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"steps\": [{\"operation\": \"a\"}], \"finalStep\": \"cleanup\"}",
        "{\"steps\": [{\"operation\": \"a\"}], \"finalStep\": [{\"operation\": \"c\"}]}",
        "{\"operation\": \"a\", \"finalStep\": {\"operation\": \"c\"}}",
      })
  void aFinalStepOfTheWrongShapeOrWithoutStepsIsRefused(String json) {
    JobDocumentException e = refused(json);
    assertEquals(DocumentReason.UNKNOWN_FORMAT, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains("finalStep"), e.getMessage());
  }

  @Test
  void aFinalStepWithoutAnOperationIsNamed() {
    JobDocumentException e =
        refused("{\"steps\": [{\"operation\": \"a\"}], \"finalStep\": {\"x\": 1}}");
    assertEquals(DocumentReason.NO_OPERATION, e.reason());
    assertTrue(e.getMessage().contains("finalStep"), e.getMessage());
  }

  @Test
  void thirtyTwoStepsIncludeTheFinalStep() throws Exception {
    StringBuilder sb = new StringBuilder("{\"steps\": [");
    for (int i = 0; i < 31; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"operation\": \"s\"}");
    }
    String head = sb.toString();
    assertEquals(
        32, parser.parse(head + "], \"finalStep\": {\"operation\": \"f\"}}").steps().size());
    assertRefused(
        DocumentReason.UNKNOWN_FORMAT,
        head + ",{\"operation\": \"s\"}], \"finalStep\": {\"operation\": \"f\"}}");
  }

  @Test
  void operationAndStepsTogetherAreAmbiguous() {
    JobDocumentException e = refused("{\"operation\": \"x\", \"steps\": [{\"operation\": \"y\"}]}");
    assertEquals(DocumentReason.UNKNOWN_FORMAT, e.reason());
    assertTrue(e.getMessage().contains("ambiguous"), e.getMessage());
  }

  @Test
  void stepsWithOtherTopLevelKeysAreRefusedNamingThem() {
    JobDocumentException e = refused("{\"steps\": [{\"operation\": \"y\"}], \"retries\": 3}");
    assertEquals(DocumentReason.UNKNOWN_FORMAT, e.reason());
    assertTrue(e.getMessage().contains("\"retries\""), e.getMessage());
  }

  @Test
  void versionAndStepsWithoutActionAreNotTakenForTheDeviceClient() {
    JobDocumentException e = refused("{\"version\": \"1.0\", \"steps\": [{\"operation\": \"y\"}]}");
    assertEquals(DocumentReason.UNKNOWN_FORMAT, e.reason());
    assertTrue(e.getMessage().contains("\"version\""), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"steps\": {\"operation\": \"y\"}}",
        "{\"steps\": \"diagnostics\"}",
        "{\"steps\": null}",
        "{\"steps\": [{\"operation\": \"y\"}, \"diagnostics\"]}",
        "{\"steps\": [[{\"operation\": \"y\"}]]}",
      })
  void stepsOfTheWrongShapeAreAnUnknownFormat(String json) {
    assertRefused(DocumentReason.UNKNOWN_FORMAT, json);
  }

  // ---- operation names ----

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{}",
        "{\"url\": \"https://x\"}",
        "{\"operation\": null}",
        "{\"operation\": \"\"}",
        "{\"operation\": \"   \"}",
        "{\"operation\": 7}",
        "{\"operation\": [\"diagnostics\"]}",
        "{\"operation\": {\"type\": \"diagnostics\"}}",
        "{\"steps\": []}",
      })
  void aDocumentWithoutAnOperationIsRefused(String json) {
    assertRefused(DocumentReason.NO_OPERATION, json);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Diagnostics",
        "-diagnostics",
        ".x",
        "firmware update",
        "firmware/update",
        "a\u0000b",
        "ünicode",
        "a1234567890123456789012345678901234567890123456789012345678901234",
      })
  void anInvalidOperationTypeIsRefused(String type) {
    String json = "{\"operation\": \"" + type.replace("\u0000", "\\u0000") + "\"}";
    JobDocumentException e = refused(json);
    assertEquals(DocumentReason.NO_OPERATION, e.reason());
    assertTrue(e.getMessage().contains("not a valid operation type"), e.getMessage());
    assertFalse(e.getMessage().contains("\u0000"), "control characters are escaped");
  }

  @Test
  void aStepWithoutAnOperationIsNamedByIndex() {
    JobDocumentException e =
        refused("{\"steps\": [{\"operation\": \"a\"}, {\"operation\": \"b\"}, {\"url\": \"x\"}]}");
    assertEquals(DocumentReason.NO_OPERATION, e.reason());
    assertTrue(e.getMessage().contains("Step 2"), e.getMessage());
  }

  @Test
  void aStepWithAnInvalidOperationIsNamedByIndex() {
    JobDocumentException e =
        refused("{\"steps\": [{\"operation\": \"a\"}, {\"operation\": \"B!\"}]}");
    assertEquals(DocumentReason.NO_OPERATION, e.reason());
    assertTrue(e.getMessage().contains("Step 1"), e.getMessage());
    assertTrue(e.getMessage().contains("\"B!\""), e.getMessage());
  }

  @Test
  void aLongOperationValueIsShortenedInTheMessage() {
    JobDocumentException e = refused("{\"operation\": \"" + "X".repeat(20_000) + "\"}");
    assertEquals(DocumentReason.NO_OPERATION, e.reason());
    assertTrue(e.getMessage().length() < 400, "message length " + e.getMessage().length());
  }

  // ---- robustness ----

  @Test
  void tenThousandRandomAndMutatedInputsOnlyEverYieldJobDocumentException() {
    List<String> seeds =
        List.of(
            "{\"operation\": \"diagnostics\"}",
            "{\"operation\": \"firmware-update\", \"url\": \"https://h/p?q=1\", \"sha256\":"
                + " \"ab12\", \"size\": 10.5e3, \"opts\": {\"a\": [true, false, null, -1]}}",
            "{\"steps\": [{\"operation\": \"a\", \"x\": 1}, {\"operation\": \"b\", \"y\": [[]]}]}",
            "{\"afr_ota\": {\"files\": []}}",
            "{\"version\": \"1.0\", \"steps\": [{\"action\": {\"name\": \"n\"}}]}",
            "{\"operation\": \"x\", \"s\": \"\\u00e9\\n\\\"q\\\"\", \"e\": {}}");
    String alphabet = "{}[]:,\"\\ \n\t0123456789.eE+-truefalsnoperationstepsafr_ota\u0000\u00e9";
    java.util.Random random = new java.util.Random(20261126L);
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < 10_000; i++) {
      String input;
      if (i % 10 == 0) {
        StringBuilder sb = new StringBuilder();
        int n = random.nextInt(200);
        for (int j = 0; j < n; j++) {
          sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        input = sb.toString();
      } else {
        input = mutate(seeds.get(random.nextInt(seeds.size())), random, alphabet);
      }
      try {
        JobDocument doc = parser.parse(input);
        assertFalse(doc.steps().isEmpty());
        accepted++;
      } catch (JobDocumentException e) {
        assertInstanceOf(DocumentReason.class, e.reason());
        assertFalse(e.getMessage().isBlank());
        refused++;
      } catch (RuntimeException | Error e) {
        fail("input " + i + " threw " + e + ": " + input, e);
      }
    }
    // Guard against a fuzzer that only ever produces one kind of input.
    assertTrue(accepted > 100, "accepted " + accepted);
    assertTrue(refused > 1000, "refused " + refused);
  }

  private static String mutate(String seed, java.util.Random random, String alphabet) {
    StringBuilder sb = new StringBuilder(seed);
    int mutations = random.nextInt(4);
    for (int m = 0; m < mutations && sb.length() > 0; m++) {
      int at = random.nextInt(sb.length());
      switch (random.nextInt(6)) {
        case 0 -> sb.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
        case 1 -> sb.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
        case 2 -> sb.deleteCharAt(at);
        case 3 -> sb.setLength(at);
        case 4 -> {
          int end = Math.min(sb.length(), at + 1 + random.nextInt(20));
          sb.insert(at, sb.substring(at, end));
        }
        default -> {
          String deep = random.nextBoolean() ? "[" : "{\"k\":";
          sb.insert(at, deep.repeat(random.nextInt(80)));
        }
      }
    }
    return sb.toString();
  }

  @Test
  void aParserIsUsableFromManyThreads() throws Exception {
    List<Thread> threads = new ArrayList<>();
    List<Throwable> problems = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < 4; t++) {
      int id = t;
      Thread thread =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < 200; i++) {
                    String op = "op" + id + "-" + i;
                    JobDocument d =
                        parser.parse("{\"operation\": \"" + op + "\", \"i\": " + i + "}");
                    assertEquals(op, d.steps().get(0).operation());
                    assertEquals(i, d.steps().get(0).parameters().integer("i").getAsLong());
                  }
                } catch (Throwable e) { // collected and reported by the test thread
                  problems.add(e);
                }
              });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join(10_000);
      assertFalse(thread.isAlive());
    }
    assertEquals(List.of(), problems);
  }
}
