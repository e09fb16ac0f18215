package org.gantry.jobdoc.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobStep;
import org.gantry.api.operation.JobParameters;

/**
 * The AWS IoT Device Client job document schema, version "1.0": {@code steps[].action} and {@code
 * finalStep.action}, each a {@code runHandler} or {@code runCommand}. Steps that the AWS managed
 * templates AWS-Reboot and AWS-Download-File write (recognised by the handler they name, {@code
 * reboot.sh} without arguments and {@code download-file.sh} with a URL and a file path) become
 * Gantry's {@code reboot} and {@code download-file} steps; every other step becomes a {@code
 * command} step whose parameters are the action's fields, normalised (flags as booleans, the
 * command line as an array).
 */
final class DeviceClientFormat {

  static final String NAME = "AWS IoT Device Client";
  static final String COMMAND = "command";
  static final String REBOOT = "reboot";
  static final String DOWNLOAD_FILE = "download-file";
  static final String RUN_HANDLER = "runHandler";
  static final String RUN_COMMAND = "runCommand";

  private static final Set<String> ROOT_KEYS =
      Set.of("version", "steps", "finalStep", "includeStdOut");
  private static final Set<String> ACTION_KEYS =
      Set.of(
          "name",
          "type",
          "input",
          "runAsUser",
          "ignoreStepFailure",
          "allowStdErr",
          "includeStdOut");
  private static final Set<String> HANDLER_INPUT_KEYS = Set.of("handler", "args", "path");
  private static final Set<String> COMMAND_INPUT_KEYS = Set.of("command");

  /** Lines of stderr output a step may allow; more is surely a typing error. */
  private static final long MAX_ALLOW_STDERR = 1_000_000;

  private DeviceClientFormat() {}

  /** Whether {@code root} has the Device Client's shape: {@code version} with steps[].action. */
  static boolean matches(Map<String, Object> root) {
    if (!root.containsKey("version") || !(root.get("steps") instanceof List<?> steps)) {
      return false;
    }
    for (Object step : steps) {
      if (step instanceof Map<?, ?> m && m.containsKey("action")) {
        return true;
      }
    }
    return false;
  }

  static JobDocument read(Map<String, Object> root, int maxSteps) throws JobDocumentException {
    Object version = root.get("version");
    if (!"1.0".equals(version)) {
      throw Fields.format(
          "The job document has the "
              + NAME
              + " shape but its \"version\" is "
              + (version instanceof String s ? StrictJsonReader.quote(s) : String.valueOf(version))
              + "; only schema version \"1.0\" (a string) is supported.");
    }
    Fields.onlyKnownKeys(root, ROOT_KEYS, "top level", NAME);
    Boolean includeStdOut = Fields.flag(root, "includeStdOut", "");
    List<?> list = Fields.list(root.get("steps"), "steps", maxSteps, "steps[].action");
    boolean hasFinal = root.get("finalStep") != null;
    if (list.size() + (hasFinal ? 1 : 0) > maxSteps) {
      throw Fields.format(
          "The job document has "
              + (list.size() + 1)
              + " steps with its finalStep; at most "
              + maxSteps
              + " are allowed.");
    }
    List<JobStep> steps = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      steps.add(step(list.get(i), "steps[" + i + "]", includeStdOut));
    }
    JobStep last = hasFinal ? step(root.get("finalStep"), "finalStep", includeStdOut) : null;
    return new JobDocument(steps, last);
  }

  private static JobStep step(Object value, String path, Boolean includeStdOut)
      throws JobDocumentException {
    Map<String, Object> step = Fields.object(value, path, "{\"action\": {...}}");
    Fields.onlyKnownKeys(step, Set.of("action"), path, NAME);
    String at = path + ".action";
    Map<String, Object> action = Fields.object(step.get("action"), at, "name, type, input");
    Fields.onlyKnownKeys(action, ACTION_KEYS, at, NAME);
    String name = Fields.requiredString(action, "name", at);
    String type = Fields.requiredString(action, "type", at);
    Map<String, Object> input =
        Fields.object(action.get("input"), at + ".input", "handler, args, path or command");
    String runAsUser = optional(Fields.optionalString(action, "runAsUser", at));
    Boolean ignore = Fields.flag(action, "ignoreStepFailure", at);
    Long allowStdErr = Fields.wholeNumber(action, "allowStdErr", at, 0, MAX_ALLOW_STDERR);
    Boolean stdout = Fields.flag(action, "includeStdOut", at);
    if (stdout == null) {
      stdout = includeStdOut;
    }

    Map<String, Object> p = new LinkedHashMap<>();
    p.put("name", name);
    p.put("type", type);
    if (RUN_HANDLER.equals(type)) {
      Fields.onlyKnownKeys(input, HANDLER_INPUT_KEYS, at + ".input", NAME + " runHandler");
      String handler = Fields.requiredString(input, "handler", at + ".input");
      List<String> args = Fields.strings(input, "args", at + ".input");
      String handlerPath = optional(Fields.optionalString(input, "path", at + ".input"));
      JobStep managed = managedTemplate(handler, args, runAsUser);
      if (managed != null) {
        return managed;
      }
      p.put("handler", handler);
      p.put("args", args);
      if (handlerPath != null) {
        p.put("path", handlerPath);
      }
    } else if (RUN_COMMAND.equals(type)) {
      Fields.onlyKnownKeys(input, COMMAND_INPUT_KEYS, at + ".input", NAME + " runCommand");
      String command = Fields.requiredString(input, "command", at + ".input");
      p.put("command", splitCommand(command, at + ".input.command"));
    } else {
      throw Fields.invalid(
          "The job document's "
              + at
              + ".type is "
              + StrictJsonReader.quote(type)
              + "; it must be \"runHandler\" or \"runCommand\".");
    }
    if (runAsUser != null) {
      p.put("runAsUser", runAsUser);
    }
    p.put("ignoreStepFailure", ignore != null && ignore);
    if (allowStdErr != null) {
      p.put("allowStdErr", allowStdErr);
    }
    p.put("includeStdOut", stdout != null && stdout);
    return new JobStep(COMMAND, JobParameters.of(p));
  }

  /**
   * The step of an AWS managed template, mapped onto Gantry's own operation, or null. AWS writes
   * these as {@code reboot.sh} without arguments (AWS-Reboot) and {@code download-file.sh} with the
   * download URL and the file path (AWS-Download-File); the handler folder and the user are the
   * Device Client's business and mean nothing to Gantry's operations, except the user.
   */
  private static JobStep managedTemplate(String handler, List<String> args, String runAsUser) {
    Map<String, Object> p = new LinkedHashMap<>();
    String type;
    if ("reboot.sh".equals(handler) && args.isEmpty()) {
      type = REBOOT;
    } else if ("download-file.sh".equals(handler) && args.size() == 2) {
      type = DOWNLOAD_FILE;
      p.put("url", args.get(0));
      p.put("filePath", args.get(1));
    } else {
      return null;
    }
    if (runAsUser != null) {
      p.put("runAsUser", runAsUser);
    }
    return new JobStep(type, JobParameters.of(p));
  }

  /**
   * An optional field of a managed template: AWS fills an optional template parameter that the job
   * did not set with an empty string, and a copy of a template may still hold the {@code
   * ${aws:iot:parameter:...}} placeholder itself; both mean "not set".
   */
  private static String optional(String value) {
    if (value == null
        || value.isBlank()
        || (value.startsWith("${aws:iot:parameter:") && value.endsWith("}"))) {
      return null;
    }
    return value;
  }

  /**
   * The Device Client's runCommand line: the program and its arguments separated by commas, a comma
   * inside an argument written {@code \,}. No shell is involved.
   */
  static List<String> splitCommand(String command, String path) throws JobDocumentException {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (int i = 0; i < command.length(); i++) {
      char c = command.charAt(i);
      if (c == '\\' && i + 1 < command.length() && command.charAt(i + 1) == ',') {
        current.append(',');
        i++;
      } else if (c == ',') {
        out.add(current.toString());
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    out.add(current.toString());
    if (out.get(0).isBlank()) {
      throw Fields.invalid(
          "The job document's "
              + path
              + " starts with an empty program name; write it as \"program,arg1,arg2\".");
    }
    return out;
  }
}
