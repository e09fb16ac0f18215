package org.gantry.jobdoc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobStep;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden tests: each fixture in {@code src/test/resources/golden} is a job document written from
 * the published specification of its format (Gantry's own, the AWS IoT Device Client schema and the
 * AWS managed templates AWS-Reboot and AWS-Download-File, AWS IoT OTA); its {@code .expected.json}
 * is the normalised result the engine must see.
 */
class GoldenDocumentsTest {

  private final GsonJobDocumentParser parser =
      new GsonJobDocumentParser(GsonJobDocumentParser.DEFAULT_DEPTH);

  @ParameterizedTest
  @ValueSource(
      strings = {
        "gantry-single",
        "gantry-steps-final",
        "dc-aws-reboot",
        "dc-aws-reboot-optional-unset",
        "dc-aws-download-file",
        "dc-install-with-final-step",
        "dc-run-command",
        "ota-http",
        "ota-two-files",
      })
  void eachFormatIsNormalisedAsExpected(String name) throws Exception {
    JobDocument actual = parser.parse(resource(name + ".json"));
    JsonObject expected =
        JsonParser.parseString(resource(name + ".expected.json")).getAsJsonObject();
    List<JobStep> steps = new ArrayList<>();
    for (JsonElement e : expected.getAsJsonArray("steps")) {
      JsonObject s = e.getAsJsonObject();
      steps.add(
          new JobStep(
              s.get("operation").getAsString(),
              JobParameters.of(toMap(s.getAsJsonObject("parameters")))));
    }
    assertEquals(steps, actual.steps(), name);
    boolean hasFinal = expected.get("final").getAsBoolean();
    assertEquals(hasFinal, actual.finalStep().isPresent(), name);
    if (hasFinal) {
      assertEquals(steps.get(steps.size() - 1), actual.finalStep().orElseThrow());
    }
  }

  /** Each refusal names the field (by its path in the document) and has the documented reason. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {"version":"2.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h"}}}]} | UNKNOWN_FORMAT | "2.0"
          {"version":1.0,"steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h"}}}]} | UNKNOWN_FORMAT | version
          {"version":"1.0","steps":[{"action":{"type":"runHandler","input":{"handler":"h"}}}]} | INVALID_PARAMETERS | steps[0].action.name
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runScript","input":{"handler":"h"}}}]} | INVALID_PARAMETERS | steps[0].action.type
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{}}}]} | INVALID_PARAMETERS | steps[0].action.input.handler
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler"}}]} | UNKNOWN_FORMAT | steps[0].action.input
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h","args":"x"}}}]} | INVALID_PARAMETERS | steps[0].action.input.args
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h","args":["a",1]}}}]} | INVALID_PARAMETERS | steps[0].action.input.args[1]
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h"},"ignoreStepFailure":"yes"}}]} | INVALID_PARAMETERS | steps[0].action.ignoreStepFailure
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h"},"allowStdErr":-1}}]} | INVALID_PARAMETERS | steps[0].action.allowStdErr
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h"},"allowStdErr":1.5}}]} | INVALID_PARAMETERS | steps[0].action.allowStdErr
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runCommand","input":{"command":",x"}}}]} | INVALID_PARAMETERS | steps[0].action.input.command
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runCommand","input":{"handler":"h"}}}]} | UNKNOWN_FORMAT | "handler"
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h"},"retries":3}}]} | UNKNOWN_FORMAT | "retries"
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h"}}}],"finalStep":{"name":"x"}} | UNKNOWN_FORMAT | finalStep
          {"version":"1.0","steps":[{"action":{"name":"n","type":"runHandler","input":{"handler":"h"}}}],"cron":"* * *"} | UNKNOWN_FORMAT | "cron"
          {"afr_ota":{"files":[]}} | NO_OPERATION | afr_ota.files
          {"afr_ota":{"files":[{"filesize":1,"update_data_url":"https://x","sig-sha256-ecdsa":"QQ=="}]}} | INVALID_PARAMETERS | afr_ota.files[0].filepath
          {"afr_ota":{"files":[{"filepath":"a","update_data_url":"https://x","sig-sha256-ecdsa":"QQ=="}]}} | INVALID_PARAMETERS | afr_ota.files[0].filesize
          {"afr_ota":{"files":[{"filepath":"a","filesize":-1,"update_data_url":"https://x","sig-sha256-ecdsa":"QQ=="}]}} | INVALID_PARAMETERS | afr_ota.files[0].filesize
          {"afr_ota":{"files":[{"filepath":"a","filesize":1,"update_data_url":"https://x"}]}} | INVALID_PARAMETERS | sig-sha256-ecdsa
          {"afr_ota":{"files":[{"filepath":"a","filesize":1,"update_data_url":"https://x","sig-sha1-rsa":"QQ=="}]}} | INVALID_PARAMETERS | sig-sha256-ecdsa
          {"afr_ota":"x"} | UNKNOWN_FORMAT | afr_ota
          {"afr_ota":{"files":[{"filepath":"a","filesize":1}]},"extra":1} | UNKNOWN_FORMAT | "extra"
          """)
  void badFieldsAreRefusedNamingThem(String json, DocumentReason reason, String named) {
    JobDocumentException e =
        assertThrows(JobDocumentException.class, () -> parser.parse(json.strip()), json);
    assertEquals(reason, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains(named.strip()), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"operation\":\"download-file\",\"url\":"
            + "\"${aws:iot:s3-presigned-url:https://s3.eu-west-1.amazonaws.com/b/k.bin}\"}",
        "{\"version\":\"1.0\",\"steps\":[{\"action\":{\"name\":\"Download-File\","
            + "\"type\":\"runHandler\",\"input\":{\"handler\":\"download-file.sh\",\"args\":"
            + "[\"${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/b/k}\",\"/tmp/k\"]}}}]}",
        "{\"afr_ota\":{\"files\":[{\"filepath\":\"a\",\"filesize\":1,\"sig-sha256-ecdsa\":\"QQ==\","
            + "\"update_data_url\":\"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/a}\"}]}}",
        "{\"steps\":[{\"operation\":\"x\",\"files\":[{\"u\":"
            + "\"see ${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/a} here\"}]}]}",
      })
  void unreplacedPresignedUrlPlaceholdersAreRefused(String json) {
    JobDocumentException e = assertThrows(JobDocumentException.class, () -> parser.parse(json));
    assertEquals(DocumentReason.UNRESOLVED_PLACEHOLDER, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains("presigned"), e.getMessage());
    assertTrue(e.getMessage().contains("presignedUrlConfig"), e.getMessage());
  }

  @Test
  void thePlaceholderMessageNamesItsPath() {
    JobDocumentException e =
        assertThrows(
            JobDocumentException.class,
            () ->
                parser.parse(
                    "{\"afr_ota\":{\"files\":[{\"filepath\":\"a\",\"filesize\":1,"
                        + "\"update_data_url\":\"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/a}\"}]}}"));
    assertTrue(
        e.getMessage().startsWith("The job document's afr_ota.files[0].update_data_url "),
        e.getMessage());
  }

  @Test
  void managedTemplateHandlersWithOtherArgumentsStayCommands() throws Exception {
    JobDocument d =
        parser.parse(
            "{\"version\":\"1.0\",\"steps\":[{\"action\":{\"name\":\"r\",\"type\":\"runHandler\","
                + "\"input\":{\"handler\":\"reboot.sh\",\"args\":[\"now\"]}}},"
                + "{\"action\":{\"name\":\"d\",\"type\":\"runHandler\","
                + "\"input\":{\"handler\":\"download-file.sh\",\"args\":[\"https://x\"]}}}]}");
    assertEquals("command", d.steps().get(0).operation());
    assertEquals("command", d.steps().get(1).operation());
    assertEquals(List.of("now"), d.steps().get(0).parameters().strings("args"));
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = GoldenDocumentsTest.class.getResourceAsStream("/golden/" + name)) {
      assertNotNull(in, name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static Map<String, Object> toMap(JsonObject o) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : o.entrySet()) {
      m.put(e.getKey(), toValue(e.getValue()));
    }
    return m;
  }

  private static Object toValue(JsonElement e) {
    if (e.isJsonNull()) {
      return null;
    }
    if (e.isJsonObject()) {
      return toMap(e.getAsJsonObject());
    }
    if (e.isJsonArray()) {
      List<Object> l = new ArrayList<>();
      for (JsonElement x : (JsonArray) e) {
        l.add(toValue(x));
      }
      return l;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isNumber()) {
      return p.getAsBigDecimal();
    }
    return p.getAsString();
  }
}
