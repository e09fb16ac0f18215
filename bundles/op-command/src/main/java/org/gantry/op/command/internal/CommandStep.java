package org.gantry.op.command.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationException;

/**
 * The parameters of one {@code command} step, checked. The jobdoc bundle normalises AWS IoT Device
 * Client actions to exactly these (flags as booleans, the command line as an array), and Gantry's
 * own documents write them directly; {@code command.schema.json} describes them.
 *
 * @param name the step's name for logs, or {@code null}
 * @param runHandler true for {@code runHandler}, false for {@code runCommand}
 * @param handler the handler's file name inside the handler folder (runHandler)
 * @param args the handler's arguments (runHandler)
 * @param command the program and its arguments (runCommand)
 * @param runAsUser the user to run as, or {@code null}
 * @param ignoreStepFailure whether a failure still lets the job go on (reported, not failed)
 * @param allowStdErr how many lines of stderr are acceptable; {@code -1} when stderr is not judged
 * @param includeStdOut whether the tail of stdout goes into statusDetails
 */
record CommandStep(
    String name,
    boolean runHandler,
    String handler,
    List<String> args,
    List<String> command,
    String runAsUser,
    boolean ignoreStepFailure,
    long allowStdErr,
    boolean includeStdOut) {

  static final String RUN_HANDLER = "runHandler";
  static final String RUN_COMMAND = "runCommand";

  /** The keyword the Device Client uses for "the configured handler folder". */
  static final String DEFAULT_PATH = "default";

  private static final Set<String> KNOWN =
      Set.of(
          "name",
          "type",
          "handler",
          "args",
          "path",
          "command",
          "runAsUser",
          "ignoreStepFailure",
          "allowStdErr",
          "includeStdOut");

  /** A file name, no path: the handler folder is the only place handlers come from. */
  private static final Pattern HANDLER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}");

  /** POSIX portable user names (and the trailing '$' of machine accounts). */
  private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_.-]{0,31}\\$?");

  static final int MAX_ARGS = 256;
  static final int MAX_ARG_CHARS = 4096;

  /**
   * Reads and checks the parameters.
   *
   * @param p the step's parameters
   * @param handlerDir the configured handler folder, which {@code path} may name
   * @throws OperationException INVALID_PARAMETERS naming the field
   */
  static CommandStep of(JobParameters p, String handlerDir) throws OperationException {
    List<String> unknown = new ArrayList<>();
    for (String n : p.names()) {
      if (!KNOWN.contains(n)) {
        unknown.add("'" + n + "'");
      }
    }
    if (!unknown.isEmpty()) {
      throw OperationException.invalidParameters(
          "The command operation does not know the parameter(s) " + String.join(", ", unknown));
    }
    String type = p.requireString("type");
    String name = p.string("name").orElse(null);
    String runAsUser = p.string("runAsUser").filter(s -> !s.isBlank()).orElse(null);
    if (runAsUser != null && !USER.matcher(runAsUser).matches()) {
      throw OperationException.invalidParameters(
          "parameter 'runAsUser' is not a valid user name: use a-z, 0-9, '_', '.', '-'");
    }
    boolean ignore = p.bool("ignoreStepFailure").orElse(false);
    OptionalLong allow = p.integer("allowStdErr");
    if (allow.isPresent() && allow.getAsLong() < 0) {
      throw OperationException.invalidParameters("parameter 'allowStdErr' must not be negative");
    }
    boolean stdout = p.bool("includeStdOut").orElse(false);
    long allowStdErr = allow.isPresent() ? allow.getAsLong() : -1;
    if (RUN_HANDLER.equals(type)) {
      if (p.has("command")) {
        throw OperationException.invalidParameters(
            "parameter 'command' belongs to runCommand, not runHandler");
      }
      String handler = p.requireString("handler");
      if (!HANDLER.matcher(handler).matches()) {
        throw OperationException.invalidParameters(
            "parameter 'handler' must be a file name in the handler folder (no '/', not"
                + " starting with '.'), but is '"
                + clip(handler)
                + "'");
      }
      String path = p.string("path").filter(s -> !s.isBlank()).orElse(DEFAULT_PATH);
      if (!DEFAULT_PATH.equals(path) && !samePath(path, handlerDir)) {
        throw OperationException.invalidParameters(
            "parameter 'path' is '"
                + clip(path)
                + "', but handlers run only from this gateway's handler folder: leave it out or"
                + " write \"default\"");
      }
      List<String> args = p.strings("args");
      checkArgs(args, "args");
      return new CommandStep(
          name, true, handler, args, List.of(), runAsUser, ignore, allowStdErr, stdout);
    }
    if (RUN_COMMAND.equals(type)) {
      for (String other : List.of("handler", "args", "path")) {
        if (p.has(other)) {
          throw OperationException.invalidParameters(
              "parameter '" + other + "' belongs to runHandler, not runCommand");
        }
      }
      List<String> command = p.strings("command");
      if (command.isEmpty() || command.get(0).isBlank()) {
        throw OperationException.invalidParameters(
            "parameter 'command' must be an array that starts with the program to run");
      }
      checkArgs(command, "command");
      return new CommandStep(
          name, false, null, List.of(), command, runAsUser, ignore, allowStdErr, stdout);
    }
    throw OperationException.invalidParameters(
        "parameter 'type' must be \"runHandler\" or \"runCommand\", but is '" + clip(type) + "'");
  }

  private static void checkArgs(List<String> args, String field) throws OperationException {
    if (args.size() > MAX_ARGS) {
      throw OperationException.invalidParameters(
          "parameter '" + field + "' has " + args.size() + " elements; at most " + MAX_ARGS);
    }
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.indexOf('\0') >= 0) {
        throw OperationException.invalidParameters(
            "parameter '" + field + "[" + i + "]' holds a NUL character, which no program can get");
      }
      if (a.length() > MAX_ARG_CHARS) {
        throw OperationException.invalidParameters(
            "parameter '" + field + "[" + i + "]' is longer than " + MAX_ARG_CHARS + " characters");
      }
    }
  }

  private static boolean samePath(String a, String b) {
    try {
      return java.nio.file.Path.of(a).normalize().equals(java.nio.file.Path.of(b).normalize());
    } catch (java.nio.file.InvalidPathException e) {
      return false;
    }
  }

  static String clip(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
