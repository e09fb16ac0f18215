package org.gantry.launcher;

import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.regex.Pattern;
import org.gantry.launcher.CommandLine.Command;
import org.gantry.launcher.CommandLine.Help;
import org.gantry.launcher.CommandLine.HubCall;
import org.gantry.launcher.CommandLine.Refused;

/**
 * The operators' commands, {@code gantry jobs ...} and {@code gantry things ...}: which subcommands
 * exist, what each accepts, their help, and the parsing into a {@link HubCall}. Values are checked
 * for their form here (a number is a number, a name has the characters AWS allows); ranges are the
 * hub's to check, so the command line never disagrees with the hub it talks to. Parsing touches
 * neither the file system nor the network.
 */
final class OpsCommandLine {

  /** What kind of value an option or argument takes, and so how it is checked. */
  enum Kind {
    FLAG("", ""),
    THING("NAME", "1-128 of a-z A-Z 0-9 : _ -"),
    GROUP("GROUP", "1-128 of a-z A-Z 0-9 : _ -"),
    JOB_ID("JOB_ID", "1-64 of a-z A-Z 0-9 _ -"),
    FILE("FILE", "a file"),
    HUB("URL", "http://HOST:PORT"),
    WHOLE("N", "a whole number"),
    DECIMAL("X", "a decimal number"),
    SECONDS("SECONDS", "a number of seconds, 0.2 to 3600"),
    JOB_STATUS("STATUS", "IN_PROGRESS, CANCELED, COMPLETED, DELETION_IN_PROGRESS or SCHEDULED"),
    EXECUTION_STATUS(
        "STATUS",
        "QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED or CANCELED"),
    SELECTION("SELECTION", "SNAPSHOT or CONTINUOUS"),
    ABORT(
        "TYPE:PERCENT:MIN",
        "FAILED|REJECTED|TIMED_OUT|ALL:PERCENT:MIN_EXECUTED, e.g. FAILED:20:10"),
    RETRY("TYPE:N", "FAILED|TIMED_OUT|ALL:RETRIES, e.g. FAILED:2"),
    S3_URL("s3://BUCKET/KEY", "s3://BUCKET/KEY or an https:// S3 URL"),
    ATTRIBUTE("NAME=VALUE", "NAME=VALUE"),
    TEXT("TEXT", "text"),
    PRINCIPAL("CN", "a certificate's subject CN, 1-128 of a-z A-Z 0-9 : _ . -");

    final String placeholder;
    final String expected;

    Kind(String placeholder, String expected) {
      this.placeholder = placeholder;
      this.expected = expected;
    }
  }

  /** One option: its name, kind, whether it may be given more than once, and its help line. */
  record Opt(String name, Kind kind, boolean repeatable, String help) {}

  /** One positional argument. */
  record Arg(String name, Kind kind) {}

  /** One subcommand, e.g. {@code jobs cancel}. */
  record Sub(String command, List<Arg> args, List<Opt> opts, List<String> required, String help) {

    String usage() {
      StringBuilder sb = new StringBuilder("gantry ").append(command);
      for (Arg a : args) {
        sb.append(' ').append(a.name());
      }
      for (Opt o : opts) {
        String one = o.name() + (o.kind() == Kind.FLAG ? "" : " " + o.kind().placeholder);
        boolean req = required.contains(o.name());
        sb.append(' ').append(req ? one : "[" + one + "]");
        if (o.repeatable()) {
          sb.append("...");
        }
      }
      return sb.append(" [--hub URL] [--token-file FILE] [--json]").toString();
    }
  }

  static final Pattern NAME = Pattern.compile("[a-zA-Z0-9:_-]{1,128}");
  static final Pattern REASON_CODE = Pattern.compile("[\\p{Upper}\\p{Digit}_]{1,128}");
  private static final Set<String> JOB_STATUSES =
      Set.of("IN_PROGRESS", "CANCELED", "COMPLETED", "DELETION_IN_PROGRESS", "SCHEDULED");
  private static final Set<String> EXECUTION_STATUSES =
      Set.of(
          "QUEUED",
          "IN_PROGRESS",
          "SUCCEEDED",
          "FAILED",
          "TIMED_OUT",
          "REJECTED",
          "REMOVED",
          "CANCELED");

  private static final Opt HUB = new Opt("--hub", Kind.HUB, false, "");
  private static final Opt TOKEN_FILE = new Opt("--token-file", Kind.FILE, false, "");
  private static final Opt JSON = new Opt("--json", Kind.FLAG, false, "");

  private static Opt opt(String name, Kind kind, String help) {
    return new Opt(name, kind, false, help);
  }

  private static Opt many(String name, Kind kind, String help) {
    return new Opt(name, kind, true, help);
  }

  private static final Arg JOB = new Arg("JOB_ID", Kind.JOB_ID);
  private static final Arg THING = new Arg("THING", Kind.THING);
  private static final Arg GROUP = new Arg("GROUP", Kind.GROUP);

  /** Every subcommand, in the order of the help. */
  static final List<Sub> SUBS =
      List.of(
          new Sub(
              "jobs list",
              List.of(),
              List.of(
                  opt("--status", Kind.JOB_STATUS, "only jobs in this status"),
                  opt("--target-selection", Kind.SELECTION, "only SNAPSHOT or CONTINUOUS jobs"),
                  opt("--group", Kind.GROUP, "only jobs that target this thing group")),
              List.of(),
              "Lists jobs (ListJobs), every page: id, status, target selection, created, updated."),
          new Sub(
              "jobs create",
              List.of(),
              List.of(
                  many("--thing", Kind.THING, "a target thing (registered first if new)"),
                  many("--group", Kind.GROUP, "a target thing group (it must exist)"),
                  opt(
                      "--document",
                      Kind.FILE,
                      "the job document, a JSON file of at most 32,768" + " characters"),
                  opt(
                      "--document-source",
                      Kind.S3_URL,
                      "the document as an artifact the hub" + " stores (read once, at creation)"),
                  opt(
                      "--config",
                      Kind.FILE,
                      "a JSON file in the CreateJob request shape; the"
                          + " options here replace its fields, and add to its targets"),
                  opt(
                      "--job-id",
                      Kind.JOB_ID,
                      "default: job-<UTC yyyyMMdd-HHmmss>-<4 hex" + " digits>"),
                  opt("--description", Kind.TEXT, "a description of the job"),
                  opt(
                      "--continuous",
                      Kind.FLAG,
                      "CONTINUOUS: things added to a target group later"
                          + " get the job too (needs --group)"),
                  opt(
                      "--max-per-minute",
                      Kind.WHOLE,
                      "rollout: at most N executions delivered" + " per minute (1-1000)"),
                  opt(
                      "--base-rate",
                      Kind.WHOLE,
                      "exponential rollout: N per minute at first" + " (1-1000)"),
                  opt(
                      "--increment-factor",
                      Kind.DECIMAL,
                      "exponential rollout: the rate is" + " multiplied by X (1.1-5) ..."),
                  opt(
                      "--increase-after-notified",
                      Kind.WHOLE,
                      "... each time N more things were" + " notified"),
                  opt(
                      "--increase-after-succeeded",
                      Kind.WHOLE,
                      "... or each time N more things" + " succeeded"),
                  many(
                      "--abort",
                      Kind.ABORT,
                      "cancel the job when executions of TYPE reach"
                          + " PERCENT of those notified, once MIN were notified"),
                  opt(
                      "--in-progress-timeout",
                      Kind.WHOLE,
                      "minutes an execution may stay"
                          + " IN_PROGRESS before it is TIMED_OUT (1-10080)"),
                  many(
                      "--retry",
                      Kind.RETRY,
                      "retry executions that end in TYPE up to N times" + " (0-10)"),
                  opt(
                      "--presigned-url-expiry",
                      Kind.WHOLE,
                      "seconds a presigned URL in the" + " document stays valid (60-3600)")),
              List.of(),
              "Creates a job (CreateJob) and prints its id and ARN. Targets are --thing and\n"
                  + "--group (several of each), or the targets of --config. The document is\n"
                  + "--document or --document-source, or that of --config."),
          new Sub(
              "jobs describe",
              List.of(JOB),
              List.of(),
              List.of(),
              "Prints the job (DescribeJob) and one line per execution with its status and\n"
                  + "statusDetails (ListJobExecutionsForJob, DescribeJobExecution)."),
          new Sub(
              "jobs document",
              List.of(JOB),
              List.of(),
              List.of(),
              "Prints the job document as stored (GetJobDocument)."),
          new Sub(
              "jobs cancel",
              List.of(JOB),
              List.of(
                  opt("--force", Kind.FLAG, "also cancel executions that are IN_PROGRESS"),
                  opt("--reason-code", Kind.TEXT, "why, in A-Z 0-9 _ (up to 128)"),
                  opt("--comment", Kind.TEXT, "why, in words")),
              List.of(),
              "Cancels the job (CancelJob): its QUEUED executions become CANCELED."),
          new Sub(
              "jobs delete",
              List.of(JOB),
              List.of(
                  opt(
                      "--force",
                      Kind.FLAG,
                      "also when the job or an execution is" + " IN_PROGRESS")),
              List.of(),
              "Deletes the job and its executions (DeleteJob)."),
          new Sub(
              "jobs executions",
              List.of(JOB),
              List.of(opt("--status", Kind.EXECUTION_STATUS, "only executions in this status")),
              List.of(),
              "Lists the job's executions (ListJobExecutionsForJob), every page."),
          new Sub(
              "jobs execution",
              List.of(JOB),
              List.of(
                  opt("--thing", Kind.THING, "the thing"),
                  opt("--execution-number", Kind.WHOLE, "default: the latest")),
              List.of("--thing"),
              "Prints one execution (DescribeJobExecution)."),
          new Sub(
              "jobs cancel-execution",
              List.of(JOB),
              List.of(
                  opt("--thing", Kind.THING, "the thing"),
                  opt("--force", Kind.FLAG, "also when it is IN_PROGRESS"),
                  opt(
                      "--expected-version",
                      Kind.WHOLE,
                      "refused unless the execution is at this" + " version")),
              List.of("--thing"),
              "Cancels one thing's execution of the job (CancelJobExecution)."),
          new Sub(
              "jobs delete-execution",
              List.of(JOB),
              List.of(
                  opt("--thing", Kind.THING, "the thing"),
                  opt("--execution-number", Kind.WHOLE, "which execution"),
                  opt("--force", Kind.FLAG, "also when it is not terminal")),
              List.of("--thing", "--execution-number"),
              "Deletes one execution (DeleteJobExecution)."),
          new Sub(
              "jobs watch",
              List.of(JOB),
              List.of(opt("--interval", Kind.SECONDS, "seconds between refreshes, default 2")),
              List.of(),
              "A live view of the job until it is COMPLETED, CANCELED or deleted: counts by\n"
                  + "execution status, progress, rollout rate against its limit, delivered and\n"
                  + "waiting executions, each abort criterion against its threshold, and the\n"
                  + "reason of a cancel. On a terminal it redraws in place; otherwise (a pipe, a\n"
                  + "CI log) it prints one line per refresh. Ctrl-C stops it."),
          new Sub(
              "things list",
              List.of(),
              List.of(),
              List.of(),
              "Lists the things the hub knows (ListThings), every page."),
          new Sub(
              "things create",
              List.of(THING),
              List.of(many("--attribute", Kind.ATTRIBUTE, "an attribute of the thing")),
              List.of(),
              "Registers a thing (CreateThing) and prints its ARN."),
          new Sub(
              "things delete",
              List.of(THING),
              List.of(
                  opt(
                      "--expected-version",
                      Kind.WHOLE,
                      "refused unless the thing is at this" + " version")),
              List.of(),
              "Deletes a thing (DeleteThing). The hub refuses while principals are attached or\n"
                  + "the thing has job executions; an absent thing is no error, as on AWS."),
          new Sub(
              "things describe",
              List.of(THING),
              List.of(),
              List.of(),
              "Prints the thing (DescribeThing)."),
          new Sub(
              "things jobs",
              List.of(THING),
              List.of(opt("--status", Kind.EXECUTION_STATUS, "only executions in this status")),
              List.of(),
              "Lists the thing's job executions (ListJobExecutionsForThing), every page."),
          new Sub(
              "things attach",
              List.of(THING),
              List.of(opt("--principal", Kind.PRINCIPAL, "the principal: its certificate's CN")),
              List.of("--principal"),
              "Attaches a principal (the subject CN of a client certificate of the site CA) to the\n"
                  + "thing (AttachThingPrincipal); the hub writes the broker's ACL from them."),
          new Sub(
              "things detach",
              List.of(THING),
              List.of(opt("--principal", Kind.PRINCIPAL, "the principal: its certificate's CN")),
              List.of("--principal"),
              "Detaches a principal from the thing (DetachThingPrincipal)."),
          new Sub(
              "things principals",
              List.of(THING),
              List.of(),
              List.of(),
              "Lists the principals attached to the thing (ListThingPrincipals)."),
          new Sub(
              "things group create",
              List.of(GROUP),
              List.of(
                  opt("--parent", Kind.GROUP, "the parent group (nesting at most 7 levels)"),
                  opt("--description", Kind.TEXT, "a description of the group")),
              List.of(),
              "Creates a thing group (CreateThingGroup) and prints its ARN."),
          new Sub(
              "things group describe",
              List.of(GROUP),
              List.of(),
              List.of(),
              "Prints the thing group (DescribeThingGroup)."),
          new Sub(
              "things group add",
              List.of(GROUP, THING),
              List.of(),
              List.of(),
              "Adds the thing to the group (AddThingToThingGroup)."),
          new Sub(
              "things group remove",
              List.of(GROUP, THING),
              List.of(),
              List.of(),
              "Removes the thing from the group (RemoveThingFromThingGroup)."),
          new Sub(
              "things group list",
              List.of(),
              List.of(
                  opt("--parent", Kind.GROUP, "only the children of this group"),
                  opt(
                      "--recursive",
                      Kind.FLAG,
                      "with --parent: all its descendants; without:"
                          + " every group (default: every group)")),
              List.of(),
              "Lists thing groups (ListThingGroups), every page."),
          new Sub(
              "things group things",
              List.of(GROUP),
              List.of(opt("--recursive", Kind.FLAG, "include the things of nested groups")),
              List.of(),
              "Lists the things in the group (ListThingsInThingGroup), every page."));

  private OpsCommandLine() {}

  static Optional<Sub> sub(String command) {
    return SUBS.stream().filter(s -> s.command().equals(command)).findFirst();
  }

  /**
   * Parses {@code gantry jobs ...} or {@code gantry things ...}.
   *
   * @param group "jobs" or "things"
   * @param args the arguments after the group
   * @param env the environment ({@code GANTRY_HUB} is the default hub)
   */
  static Command parse(String group, String[] args, Path cwd, Map<String, String> env) {
    String hint = "Run 'gantry " + group + " --help' for usage.";
    List<String> names = new ArrayList<>();
    int i = 0;
    String prefix = group;
    if (group.equals("things") && args.length > 0 && args[0].equals("group")) {
      prefix = "things group";
      i = 1;
    }
    String p = prefix;
    List<String> subs =
        SUBS.stream()
            .map(Sub::command)
            .filter(c -> c.startsWith(p + " ") && c.indexOf(' ', p.length() + 1) < 0)
            .map(c -> c.substring(p.length() + 1))
            .toList();
    names.addAll(subs);
    if (prefix.equals("things")) {
      names.add("group");
    }
    if (i >= args.length) {
      if (prefix.equals("things group")) {
        return new Refused("things group needs a subcommand: " + String.join(", ", names), hint);
      }
      return new Refused(group + " needs a subcommand: " + String.join(", ", names), hint);
    }
    String name = args[i];
    String[] rest = Arrays.copyOfRange(args, i + 1, args.length);
    if (CommandLine.HELP.contains(name)) {
      return new Help(groupHelp(prefix));
    }
    Optional<Sub> found = sub(prefix + " " + name);
    if (found.isEmpty()) {
      return new Refused(
          "unknown "
              + prefix
              + " subcommand '"
              + name
              + "' (subcommands: "
              + String.join(", ", names)
              + ")",
          hint);
    }
    Sub sub = found.get();
    String subHint = "Run 'gantry " + sub.command() + " --help' for usage.";
    for (String a : rest) {
      if (CommandLine.HELP.contains(a)) {
        return new Help(help(sub));
      }
    }
    return parse(sub, rest, cwd, env, subHint);
  }

  private static Command parse(
      Sub sub, String[] args, Path cwd, Map<String, String> env, String hint) {
    Map<String, Opt> known = new LinkedHashMap<>();
    for (Opt o : sub.opts()) {
      known.put(o.name(), o);
    }
    known.put(HUB.name(), HUB);
    known.put(TOKEN_FILE.name(), TOKEN_FILE);
    known.put(JSON.name(), JSON);
    Map<String, List<String>> options = new LinkedHashMap<>();
    List<String> positionals = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String option = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        option = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      Opt o = known.get(option);
      if (o == null) {
        if (arg.startsWith("-") && arg.length() > 1) {
          if (arg.equals("--token")) {
            return new Refused(
                "--token is not accepted, so the token never shows in the process list: set"
                    + " GANTRY_HUB_TOKEN or give --token-file FILE",
                hint);
          }
          return new Refused("unknown option '" + arg + "' for " + sub.command(), hint);
        }
        if (positionals.size() >= sub.args().size()) {
          return new Refused("unexpected argument '" + arg + "'", hint);
        }
        Arg a = sub.args().get(positionals.size());
        Optional<String> problem = check(a.kind(), arg);
        if (problem.isPresent()) {
          return new Refused("bad " + a.name() + ": " + problem.get(), hint);
        }
        positionals.add(arg);
        continue;
      }
      if (o.kind() == Kind.FLAG) {
        if (value != null) {
          return new Refused(option + " takes no value", hint);
        }
        value = "";
      } else if (value == null) {
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
          return new Refused(
              option + " needs a value: " + option + " " + o.kind().placeholder, hint);
        }
        value = args[++i];
      }
      if (options.containsKey(option) && !o.repeatable()) {
        return new Refused(option + " is given twice", hint);
      }
      Optional<String> problem = check(o.kind(), value);
      if (problem.isPresent()) {
        return new Refused("bad " + option + " value: " + problem.get(), hint);
      }
      if (o.kind() == Kind.FILE) {
        value = cwd.resolve(value).toAbsolutePath().normalize().toString();
      }
      options.computeIfAbsent(option, k -> new ArrayList<>()).add(value);
    }
    if (positionals.size() < sub.args().size()) {
      return new Refused(
          sub.command() + " needs " + sub.args().get(positionals.size()).name(), hint);
    }
    for (String r : sub.required()) {
      if (!options.containsKey(r)) {
        return new Refused(
            sub.command() + " needs " + r + " " + known.get(r).kind().placeholder, hint);
      }
    }
    Optional<String> combination = checkCombination(sub.command(), options);
    if (combination.isPresent()) {
      return new Refused(combination.get(), hint);
    }
    URI hub;
    if (options.containsKey("--hub")) {
      hub = CommandLine.hubUri(options.get("--hub").get(0));
    } else {
      String fromEnv = env.get("GANTRY_HUB");
      if (fromEnv != null && !fromEnv.isEmpty()) {
        Optional<String> problem = CommandLine.checkHubUrl(fromEnv);
        if (problem.isPresent()) {
          return new Refused("bad GANTRY_HUB in the environment: " + problem.get(), hint);
        }
        hub = CommandLine.hubUri(fromEnv);
      } else {
        hub = CommandLine.DEFAULT_HUB;
      }
    }
    Optional<Path> tokenFile =
        Optional.ofNullable(options.remove("--token-file")).map(l -> Path.of(l.get(0)));
    boolean json = options.remove("--json") != null;
    options.remove("--hub");
    return new HubCall(sub.command(), options, positionals, hub, tokenFile, json);
  }

  private static Optional<String> checkCombination(
      String command, Map<String, List<String>> options) {
    if (command.equals("jobs create")) {
      if (options.containsKey("--document") && options.containsKey("--document-source")) {
        return Optional.of("--document and --document-source exclude each other");
      }
      boolean exponential =
          options.containsKey("--base-rate")
              || options.containsKey("--increment-factor")
              || options.containsKey("--increase-after-notified")
              || options.containsKey("--increase-after-succeeded");
      if (exponential) {
        for (String needed : List.of("--base-rate", "--increment-factor")) {
          if (!options.containsKey(needed)) {
            return Optional.of(
                "an exponential rollout needs --base-rate, --increment-factor and one of"
                    + " --increase-after-notified or --increase-after-succeeded; "
                    + needed
                    + " is missing");
          }
        }
        boolean notified = options.containsKey("--increase-after-notified");
        boolean succeeded = options.containsKey("--increase-after-succeeded");
        if (notified == succeeded) {
          return Optional.of(
              "an exponential rollout needs exactly one of --increase-after-notified or"
                  + " --increase-after-succeeded");
        }
      }
      if (options.containsKey("--continuous") && !options.containsKey("--group")) {
        return Optional.of(
            "--continuous needs a --group target: a thing added to it later gets" + " the job");
      }
    }
    if (command.equals("jobs cancel") && options.containsKey("--reason-code")) {
      String code = options.get("--reason-code").get(0);
      if (!REASON_CODE.matcher(code).matches()) {
        return Optional.of("bad --reason-code value: '" + code + "' is not 1-128 of A-Z 0-9 _");
      }
    }
    return Optional.empty();
  }

  /** Empty when {@code value} has the form {@code kind} takes, else why not. */
  static Optional<String> check(Kind kind, String value) {
    switch (kind) {
      case FLAG, TEXT -> {
        return Optional.empty();
      }
      case THING -> {
        return CommandLine.checkThingName(value);
      }
      case GROUP -> {
        return NAME.matcher(value).matches()
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case JOB_ID -> {
        return CommandLine.checkJobId(value);
      }
      case FILE -> {
        try {
          if (value.isBlank()) {
            return Optional.of("the path is empty");
          }
          return Path.of(value).toString().isEmpty()
              ? Optional.of("the path is empty")
              : Optional.empty();
        } catch (InvalidPathException e) {
          return Optional.of("'" + value + "' is not a valid path: " + e.getReason());
        }
      }
      case HUB -> {
        return CommandLine.checkHubUrl(value);
      }
      case WHOLE -> {
        return value.matches("[0-9]{1,9}")
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case DECIMAL -> {
        return value.matches("[0-9]{1,6}(\\.[0-9]{1,6})?")
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case SECONDS -> {
        if (!value.matches("[0-9]{1,4}(\\.[0-9]{1,3})?")) {
          return Optional.of("'" + value + "' is not " + kind.expected);
        }
        double s = Double.parseDouble(value);
        return s >= 0.2 && s <= 3600
            ? Optional.empty()
            : Optional.of(value + " is out of range: " + kind.expected);
      }
      case JOB_STATUS -> {
        return JOB_STATUSES.contains(value)
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case EXECUTION_STATUS -> {
        return EXECUTION_STATUSES.contains(value)
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case SELECTION -> {
        return value.equals("SNAPSHOT") || value.equals("CONTINUOUS")
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case ABORT -> {
        return value.matches(
                "(FAILED|REJECTED|TIMED_OUT|ALL):[0-9]{1,3}(\\.[0-9]{1,2})?:[0-9]{1,9}")
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case RETRY -> {
        return value.matches("(FAILED|TIMED_OUT|ALL):[0-9]{1,2}")
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case S3_URL -> {
        return value.matches("(s3://|https://)[^\\s]+")
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      case ATTRIBUTE -> {
        return value.matches("[a-zA-Z0-9_.,@/:#-]{1,128}=[a-zA-Z0-9_.,@/:#-]{0,800}")
            ? Optional.empty()
            : Optional.of(
                "'"
                    + value
                    + "' is not NAME=VALUE (AWS attribute names and values: a-z A-Z 0-9 _ . , @ /"
                    + " : # -)");
      }
      case PRINCIPAL -> {
        return value.matches("[a-zA-Z0-9:_.-]{1,128}")
            ? Optional.empty()
            : Optional.of("'" + value + "' is not " + kind.expected);
      }
      default -> throw new IllegalStateException("unknown kind " + kind);
    }
  }

  /** The help of one group ({@code jobs}, {@code things}, {@code things group}). */
  static String groupHelp(String prefix) {
    StringJoiner j = new StringJoiner("\n", "", "\n");
    j.add("Usage:");
    for (Sub s : SUBS) {
      if (s.command().startsWith(prefix + " ")
          && (prefix.equals("things group") || !s.command().startsWith("things group"))) {
        j.add("  " + s.usage());
      }
    }
    if (prefix.equals("things")) {
      j.add(
          "  gantry things group create|describe|add|remove|list|things ...   (gantry things group"
              + " --help)");
    }
    j.add("");
    j.add("Operators' commands for a hub's management API (the AWS IoT REST shapes). Run");
    j.add("'gantry " + prefix + " SUBCOMMAND --help' for each one.");
    j.add("");
    j.add(COMMON);
    return j.toString();
  }

  private static final String COMMON =
      String.join(
          "\n",
          "Options of every subcommand:",
          "  --hub URL          The hub's management API. Default: $GANTRY_HUB, else "
              + CommandLine.DEFAULT_HUB,
          "  --token-file FILE  A file holding the bearer token for the hub (first line). Default:",
          "                     $GANTRY_HUB_TOKEN; no token if neither is set. There is no",
          "                     --token option: a token on the command line shows in 'ps'.",
          "  --json             Print the hub's answer as JSON (for scripts) instead of a table;",
          "                     for a list, every page's items in one array.",
          "  -h, --help         Print the help and exit.",
          "",
          "Exit status: 0 on success; 1 when the hub refuses (its error type and message are",
          "printed) or cannot be reached; 2 for a bad command line or an unusable file.",
          "");

  /** The help of one subcommand. */
  static String help(Sub sub) {
    StringJoiner j = new StringJoiner("\n", "", "\n");
    // the usage breaks before an option, never inside one
    wrap("Usage: " + sub.usage(), "         ", " [", j);
    j.add("");
    j.add(sub.help());
    if (!sub.opts().isEmpty()) {
      j.add("");
      j.add("Options:");
      int width = 0;
      for (Opt o : sub.opts()) {
        width = Math.max(width, label(o).length());
      }
      for (Opt o : sub.opts()) {
        wrap(
            String.format(
                Locale.ROOT,
                "  %-" + width + "s  %s%s",
                label(o),
                o.help(),
                o.repeatable() ? " (may be repeated)" : ""),
            " ".repeat(width + 4),
            " ",
            j);
      }
    }
    j.add("");
    j.add(COMMON);
    return j.toString();
  }

  /** The help's width: lines are broken between words before it. */
  static final int WIDTH = 100;

  /**
   * Adds {@code text} to {@code j}, broken before {@link #WIDTH} where {@code breakAt} starts (the
   * space is dropped), later lines indented.
   */
  private static void wrap(String text, String indent, String breakAt, StringJoiner j) {
    String rest = text;
    while (rest.length() > WIDTH) {
      int cut = rest.lastIndexOf(breakAt, WIDTH);
      if (cut <= indent.length()) {
        break;
      }
      j.add(rest.substring(0, cut));
      rest = indent + rest.substring(cut + 1);
    }
    j.add(rest);
  }

  private static String label(Opt o) {
    return o.name() + (o.kind() == Kind.FLAG ? "" : " " + o.kind().placeholder);
  }
}
