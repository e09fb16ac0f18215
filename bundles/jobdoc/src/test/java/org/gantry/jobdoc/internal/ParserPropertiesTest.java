package org.gantry.jobdoc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobStep;

/**
 * Properties of the parser over generated input: whatever the string, the only way it fails is
 * {@link JobDocumentException} with a sentence; the memory one parse allocates is bounded by a
 * fixed budget however hostile the input; and generated valid documents of each format come back
 * with exactly their steps.
 */
class ParserPropertiesTest {

  private static final GsonJobDocumentParser PARSER =
      new GsonJobDocumentParser(GsonJobDocumentParser.DEFAULT_DEPTH);

  /**
   * What one parse of a document of at most 32,768 characters may allocate. Generous (the reader
   * builds plain maps and BigDecimals) but fixed: a parser that expanded its input, or recursed
   * into a tree per nesting level, would exceed it on the nested and repeated inputs below.
   */
  private static final long ALLOCATION_BUDGET = 64L << 20;

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /** Parses, returning the document or null for a refusal; anything else escapes and fails. */
  private static JobDocument parseOrRefuse(String json) {
    try {
      JobDocument d = PARSER.parse(json);
      assertNotNull(d);
      assertFalse(d.steps().isEmpty());
      return d;
    } catch (JobDocumentException e) {
      assertNotNull(e.reason());
      assertFalse(e.getMessage().isBlank());
      assertTrue(
          e.getMessage().length() <= 1024, "fits one statusDetails value: " + e.getMessage());
      return null;
    }
  }

  private static void parseWithinBudget(String json) {
    long tid = Thread.currentThread().getId();
    long before = THREADS.getThreadAllocatedBytes(tid);
    parseOrRefuse(json);
    long used = THREADS.getThreadAllocatedBytes(tid) - before;
    assertTrue(
        used < ALLOCATION_BUDGET, "allocated " + used + " bytes for " + json.length() + " chars");
  }

  @Property(tries = 300)
  void anyStringYieldsADocumentOrAJobDocumentException(@ForAll("anyText") String s) {
    parseWithinBudget(s);
  }

  @Property(tries = 300)
  void mutatedDocumentsOfEveryFormatYieldADocumentOrAJobDocumentException(
      @ForAll("mutatedDocuments") String s) {
    parseWithinBudget(s);
  }

  @Property(tries = 60)
  void hostileShapesUpToTheSizeLimitStayWithinTheBudget(@ForAll("hostile") String s) {
    parseWithinBudget(s);
  }

  @Property(tries = 200)
  void gantryStepsComeBackInOrderWithTheirFinalStep(
      @ForAll("operationTypes") List<String> types, @ForAll boolean withFinal) {
    StringBuilder sb = new StringBuilder("{\"steps\": [");
    for (int i = 0; i < types.size(); i++) {
      sb.append(i == 0 ? "" : ",")
          .append("{\"operation\": \"")
          .append(types.get(i))
          .append("\", \"i\": ")
          .append(i)
          .append('}');
    }
    sb.append(']');
    if (withFinal) {
      sb.append(", \"finalStep\": {\"operation\": \"cleanup\"}");
    }
    JobDocument d = parseOrRefuse(sb.append('}').toString());
    assertNotNull(d, sb.toString());
    List<String> got = d.steps().stream().map(JobStep::operation).toList();
    List<String> want = new ArrayList<>(types);
    if (withFinal) {
      want.add("cleanup");
    }
    assertEquals(want, got);
    assertEquals(withFinal, d.finalStep().isPresent());
  }

  @Property(tries = 200)
  void deviceClientHandlersBecomeCommandStepsWithTheirArguments(
      @ForAll("handlerNames") String handler,
      @ForAll("arguments") List<String> args,
      @ForAll @IntRange(min = 1, max = 5) int count) {
    StringBuilder sb = new StringBuilder("{\"version\": \"1.0\", \"steps\": [");
    for (int i = 0; i < count; i++) {
      sb.append(i == 0 ? "" : ",")
          .append("{\"action\": {\"name\": \"s")
          .append(i)
          .append("\", \"type\": \"runHandler\", \"input\": {\"handler\": \"")
          .append(handler)
          .append("\", \"args\": [");
      for (int a = 0; a < args.size(); a++) {
        sb.append(a == 0 ? "" : ",").append('"').append(args.get(a)).append('"');
      }
      sb.append("]}}}");
    }
    JobDocument d = parseOrRefuse(sb.append("]}").toString());
    assertNotNull(d, sb.toString());
    assertEquals(count, d.steps().size());
    for (JobStep s : d.steps()) {
      assertEquals("command", s.operation());
      try {
        assertEquals(handler, s.parameters().requireString("handler"));
        assertEquals(args, s.parameters().strings("args"));
      } catch (org.gantry.api.operation.OperationException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Provide
  Arbitrary<String> anyText() {
    return Arbitraries.oneOf(
        Arbitraries.strings().all().ofMaxLength(2000),
        Arbitraries.strings().withChars("{}[]:,\"\\ 0123456789.eE+-truefalsn").ofMaxLength(2000));
  }

  private static final List<String> SEEDS =
      List.of(
          "{\"operation\": \"diagnostics\", \"n\": 1.50, \"on\": true, \"x\": null}",
          "{\"steps\": [{\"operation\": \"a\"}, {\"operation\": \"b\", \"l\": [1, {\"k\": \"v\"}]}],"
              + " \"finalStep\": {\"operation\": \"c\"}}",
          "{\"version\": \"1.0\", \"includeStdOut\": \"true\", \"steps\": [{\"action\": {\"name\":"
              + " \"n\", \"type\": \"runHandler\", \"input\": {\"handler\": \"h.sh\", \"args\":"
              + " [\"a\"], \"path\": \"default\"}, \"runAsUser\": \"root\", \"ignoreStepFailure\":"
              + " \"true\", \"allowStdErr\": 2}}], \"finalStep\": {\"action\": {\"name\": \"f\","
              + " \"type\": \"runCommand\", \"input\": {\"command\": \"echo,a\\\\,b\"}}}}",
          "{\"version\": \"1.0\", \"steps\": [{\"action\": {\"name\": \"Reboot\", \"type\":"
              + " \"runHandler\", \"input\": {\"handler\": \"reboot.sh\", \"path\": \"\"}}}]}",
          "{\"afr_ota\": {\"protocols\": [\"HTTP\"], \"files\": [{\"filepath\": \"/f\", \"filesize\":"
              + " 10, \"fileid\": 0, \"certfile\": \"c\", \"update_data_url\": \"https://h/f\","
              + " \"auth_scheme\": \"aws.s3.presigned\", \"sig-sha256-ecdsa\": \"QUJD\"}]}}",
          "{\"operation\": \"download-file\", \"url\":"
              + " \"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/k}\"}");

  @Provide
  Arbitrary<String> mutatedDocuments() {
    Arbitrary<String> seed = Arbitraries.of(SEEDS);
    Arbitrary<Character> junk =
        Arbitraries.of('{', '}', '[', ']', ':', ',', '"', '\\', '0', 'a', ' ');
    Arbitrary<List<int[]>> edits =
        Combinators.combine(
                Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 10_000),
                Arbitraries.integers().between(0, 10))
            .as((kind, at, len) -> new int[] {kind, at, len})
            .list()
            .ofMaxSize(6);
    return Combinators.combine(seed, edits, junk)
        .as(
            (s, es, c) -> {
              StringBuilder sb = new StringBuilder(s);
              for (int[] e : es) {
                if (sb.length() == 0) {
                  break;
                }
                int at = e[1] % sb.length();
                switch (e[0]) {
                  case 0 -> sb.delete(at, Math.min(sb.length(), at + e[2]));
                  case 1 -> sb.insert(at, c);
                  default -> sb.insert(at, sb.substring(at, Math.min(sb.length(), at + e[2])));
                }
              }
              return sb.toString();
            });
  }

  @Provide
  Arbitrary<String> hostile() {
    Arbitrary<Integer> size = Arbitraries.integers().between(1, 16_000);
    return Arbitraries.oneOf(
        size.map(n -> "[".repeat(2 * n)),
        size.map(n -> "{\"a\":".repeat(Math.min(n, 6_000)) + "1" + "}".repeat(Math.min(n, 6_000))),
        size.map(n -> "{\"steps\": [" + "{\"operation\":\"x\"},".repeat(n / 20) + "{}]}"),
        size.map(n -> "{\"operation\":\"x\",\"n\":" + "9".repeat(Math.min(2 * n, 32_000)) + "}"),
        size.map(n -> "{\"operation\":\"x\",\"s\":\"" + "\\u00e9".repeat(n / 3) + "\"}"),
        size.map(n -> "{\"operation\":\"x\",\"l\":[" + "1,".repeat(n) + "1]}"));
  }

  @Provide
  Arbitrary<List<String>> operationTypes() {
    return Arbitraries.strings()
        .withChars("abcdefghijklmnopqrstuvwxyz0123456789._-")
        .ofMinLength(1)
        .ofMaxLength(64)
        .filter(s -> Character.isLetterOrDigit(s.charAt(0)))
        .list()
        .ofMinSize(1)
        .ofMaxSize(31);
  }

  @Provide
  Arbitrary<String> handlerNames() {
    return Arbitraries.strings()
        .withChars("abcdefghijklmnopqrstuvwxyzABC0123456789._-")
        .ofMinLength(1)
        .ofMaxLength(40)
        .filter(s -> !s.equals("reboot.sh") && !s.equals("download-file.sh"));
  }

  @Provide
  Arbitrary<List<String>> arguments() {
    return Arbitraries.strings()
        .alpha()
        .numeric()
        .withChars(' ', '-', '/')
        .ofMaxLength(30)
        .list()
        .ofMaxSize(6);
  }
}
