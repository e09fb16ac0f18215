package org.gantry.launcher;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
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
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Parses {@code bin/gantry}'s arguments. Parsing never touches the file system or the network:
 * whether the data folder can be created or the hub answers is the command's question.
 */
final class CommandLine {

  /** What the arguments ask for. */
  sealed interface Command {}

  /** Print this text on stdout and exit 0. */
  record Help(String text) implements Command {}

  /** Print the message and the hint on stderr and exit 2. */
  record Refused(String message, String hint) implements Command {}

  /** Run the gateway role. */
  record RunGateway(GatewayOptions options) implements Command {}

  /** Run the hub role. */
  record RunHub(HubOptions options) implements Command {}

  /**
   * {@code gantry jobs ...} or {@code gantry things ...}: a call (or several) of the hub's
   * management API.
   *
   * @param command the subcommand, e.g. {@code "jobs cancel"} (see {@link OpsCommandLine#SUBS})
   * @param options the subcommand's options in command-line order, each with its values (a flag's
   *     value is the empty string; a file is an absolute path, not read yet)
   * @param args the positional arguments
   * @param tokenFile {@code --token-file}, not read yet
   * @param json {@code --json}: print the hub's answer as it is
   */
  record HubCall(
      String command,
      Map<String, List<String>> options,
      List<String> args,
      URI hub,
      Optional<Path> tokenFile,
      boolean json)
      implements Command {

    HubCall {
      Map<String, List<String>> copy = new LinkedHashMap<>();
      options.forEach((k, v) -> copy.put(k, List.copyOf(v)));
      options = java.util.Collections.unmodifiableMap(copy);
      args = List.copyOf(args);
    }

    boolean has(String option) {
      return options.containsKey(option);
    }

    Optional<String> value(String option) {
      List<String> v = options.get(option);
      return v == null ? Optional.empty() : Optional.of(v.get(0));
    }

    List<String> values(String option) {
      return options.getOrDefault(option, List.of());
    }
  }

  /** {@code gantry demo}: empty means a fresh temporary folder. */
  record RunDemo(Optional<Path> dataDir) implements Command {}

  static final Pattern THING_NAME = Pattern.compile("[a-zA-Z0-9:_-]{1,128}");
  static final Pattern JOB_ID = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  /** The hub's management API when {@code --hub} is not given: {@code gantry hub}'s default. */
  static final URI DEFAULT_HUB = URI.create("http://127.0.0.1:" + HubDefaults.API_PORT);

  private static final String TOP_HINT = "Run 'gantry --help' for usage.";
  private static final String GATEWAY_HINT = "Run 'gantry gateway --help' for usage.";
  private static final String HUB_HINT = "Run 'gantry hub --help' for usage.";
  private static final String DEMO_HINT = "Run 'gantry demo --help' for usage.";
  static final List<String> HELP = List.of("--help", "-h");

  /**
   * What one command accepts.
   *
   * @param name the command as the user typed it, for messages ("jobs create")
   * @param valued options that take a value, with the value's name for messages
   * @param flags options without a value
   * @param positionals the names of the positional arguments, all required
   */
  private record Spec(
      String name,
      Map<String, String> valued,
      Set<String> flags,
      List<String> positionals,
      String hint) {}

  /** Options in command-line order (a flag's value is the empty string), then positionals. */
  private record Parsed(Map<String, String> options, List<String> positionals) {}

  private static final Spec GATEWAY =
      new Spec(
          "gateway",
          Map.of(
              "--broker",
              "tcp://HOST:PORT",
              "--thing",
              "NAME",
              "--data",
              "DIR",
              "--config",
              "DIR",
              "--ca",
              "FILE",
              "--cert",
              "FILE",
              "--key",
              "FILE",
              "--pkcs12",
              "FILE",
              "--alpn",
              "PROTOCOLS"),
          Set.of("--shell"),
          List.of(),
          GATEWAY_HINT);
  private static final Spec HUB =
      new Spec(
          "hub",
          Map.of(
              "--mqtt-port",
              "N",
              "--api-port",
              "N",
              "--broker",
              "tcp://HOST:PORT",
              "--data",
              "DIR",
              "--config",
              "DIR"),
          Set.of(),
          List.of(),
          HUB_HINT);
  private static final Spec DEMO =
      new Spec("demo", Map.of("--data", "DIR"), Set.of(), List.of(), DEMO_HINT);

  private CommandLine() {}

  /**
   * @param args the arguments as given to {@code bin/gantry}
   * @param home the runtime folder, for the defaults shown in help; may be null
   * @param cwd the caller's working directory, against which relative paths are resolved
   */
  static Command parse(String[] args, Path home, Path cwd) {
    return parse(args, home, cwd, Map.of());
  }

  /**
   * @param env the environment: {@code GANTRY_HUB} is the default of {@code --hub}
   */
  static Command parse(String[] args, Path home, Path cwd, Map<String, String> env) {
    if (args.length == 0) {
      return new Refused("no command given", TOP_HINT);
    }
    String first = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    if (HELP.contains(first)) {
      return new Help(topHelp());
    }
    if (first.startsWith("-")) {
      return new Refused("unknown option '" + first + "'", TOP_HINT);
    }
    return switch (first) {
      case "gateway" -> parseGateway(rest, home, cwd);
      case "hub" -> parseHub(rest, home, cwd);
      case "jobs", "things" -> OpsCommandLine.parse(first, rest, cwd, env);
      case "demo" -> parseDemo(rest, cwd);
      default ->
          new Refused(
              "unknown command '" + first + "' (commands: gateway, hub, jobs, things, demo)",
              TOP_HINT);
    };
  }

  // --help wins over anything else on the line, as people add it to a failing command line.
  private static boolean asksForHelp(String[] args) {
    for (String arg : args) {
      if (HELP.contains(arg)) {
        return true;
      }
    }
    return false;
  }

  /** Splits the arguments by {@code spec}: either a {@link Parsed} or a {@link Refused}. */
  private static Object split(String[] args, Spec spec) {
    Map<String, String> options = new LinkedHashMap<>();
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
      if (spec.flags().contains(option)) {
        if (value != null) {
          return new Refused(option + " takes no value", spec.hint());
        }
        if (options.containsKey(option)) {
          return new Refused(option + " is given twice", spec.hint());
        }
        options.put(option, "");
      } else if (spec.valued().containsKey(option)) {
        if (value == null) {
          if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
            return new Refused(
                option + " needs a value: " + option + " " + spec.valued().get(option),
                spec.hint());
          }
          value = args[++i];
        }
        if (options.containsKey(option)) {
          return new Refused(option + " is given twice", spec.hint());
        }
        options.put(option, value);
      } else if (arg.startsWith("-")) {
        return new Refused("unknown option '" + arg + "' for " + spec.name(), spec.hint());
      } else if (positionals.size() < spec.positionals().size()) {
        positionals.add(arg);
      } else {
        return new Refused("unexpected argument '" + arg + "'", spec.hint());
      }
    }
    if (positionals.size() < spec.positionals().size()) {
      return new Refused(
          spec.name() + " needs " + spec.positionals().get(positionals.size()), spec.hint());
    }
    return new Parsed(options, positionals);
  }

  private static Refused bad(String option, String problem, Spec spec) {
    return new Refused("bad " + option + " value: " + problem, spec.hint());
  }

  private static Command parseGateway(String[] args, Path home, Path cwd) {
    if (asksForHelp(args)) {
      return new Help(gatewayHelp(home));
    }
    Object split = split(args, GATEWAY);
    if (split instanceof Refused refused) {
      return refused;
    }
    String broker = null;
    String thing = null;
    Path data = null;
    Path config = null;
    Map<String, String> tls = new TreeMap<>();
    for (Map.Entry<String, String> e : ((Parsed) split).options().entrySet()) {
      String value = e.getValue();
      Optional<String> problem = Optional.empty();
      switch (e.getKey()) {
        case "--broker" -> {
          problem = checkGatewayBroker(value);
          broker = value;
        }
        case "--ca", "--cert", "--key", "--pkcs12" -> {
          problem = checkReadableFile(cwd, value);
          if (problem.isEmpty()) {
            tls.put(TLS_KEYS.get(e.getKey()), absolute(cwd, value).toString());
          }
        }
        case "--alpn" -> {
          problem = checkAlpn(value);
          tls.put(TLS_KEYS.get(e.getKey()), value);
        }
        case "--thing" -> {
          problem = checkThingName(value);
          thing = value;
        }
        case "--data" -> {
          problem = checkDataDir(cwd, value);
          data = problem.isEmpty() ? absolute(cwd, value) : null;
        }
        case "--config" -> {
          problem = checkPath(cwd, value);
          config = problem.isEmpty() ? absolute(cwd, value) : null;
        }
        default -> {}
      }
      if (problem.isPresent()) {
        return bad(e.getKey(), problem.get(), GATEWAY);
      }
    }
    Map<String, String> given = ((Parsed) split).options();
    Optional<Map.Entry<String, String>> tlsProblem = checkTlsCombination(given, broker);
    if (tlsProblem.isPresent()) {
      return new Refused(
          tlsProblem.get().getKey() + " " + tlsProblem.get().getValue(), GATEWAY.hint());
    }
    return new RunGateway(
        new GatewayOptions(
            Optional.ofNullable(broker),
            Optional.ofNullable(thing),
            Optional.ofNullable(data),
            Optional.ofNullable(config),
            ((Parsed) split).options().containsKey("--shell"),
            tls));
  }

  private static Command parseHub(String[] args, Path home, Path cwd) {
    if (asksForHelp(args)) {
      return new Help(hubHelp(home));
    }
    Object split = split(args, HUB);
    if (split instanceof Refused refused) {
      return refused;
    }
    Integer mqttPort = null;
    Integer apiPort = null;
    String broker = null;
    Path data = null;
    Path config = null;
    for (Map.Entry<String, String> e : ((Parsed) split).options().entrySet()) {
      String value = e.getValue();
      Optional<String> problem = Optional.empty();
      switch (e.getKey()) {
        case "--mqtt-port", "--api-port" -> {
          problem = checkPort(value);
          if (problem.isEmpty()) {
            if (e.getKey().equals("--mqtt-port")) {
              mqttPort = Integer.valueOf(value);
            } else {
              apiPort = Integer.valueOf(value);
            }
          }
        }
        case "--broker" -> {
          problem = checkBroker(value);
          broker = value;
        }
        case "--data" -> {
          problem = checkDataDir(cwd, value);
          data = problem.isEmpty() ? absolute(cwd, value) : null;
        }
        case "--config" -> {
          problem = checkPath(cwd, value);
          config = problem.isEmpty() ? absolute(cwd, value) : null;
        }
        default -> {}
      }
      if (problem.isPresent()) {
        return bad(e.getKey(), problem.get(), HUB);
      }
    }
    if (broker != null && mqttPort != null) {
      return new Refused(
          "--mqtt-port and --broker exclude each other: --mqtt-port is the port of the embedded"
              + " broker, which is not started when --broker names an external one",
          HUB_HINT);
    }
    if (mqttPort != null && mqttPort.equals(apiPort)) {
      return new Refused(
          "--mqtt-port and --api-port are both " + mqttPort + ": give them different ports",
          HUB_HINT);
    }
    return new RunHub(
        new HubOptions(
            Optional.ofNullable(mqttPort),
            Optional.ofNullable(apiPort),
            Optional.ofNullable(broker),
            Optional.ofNullable(data),
            Optional.ofNullable(config)));
  }

  private static Command parseDemo(String[] args, Path cwd) {
    if (asksForHelp(args)) {
      return new Help(demoHelp());
    }
    Object split = split(args, DEMO);
    if (split instanceof Refused refused) {
      return refused;
    }
    String data = ((Parsed) split).options().get("--data");
    if (data == null) {
      return new RunDemo(Optional.empty());
    }
    Optional<String> problem = checkDataDir(cwd, data);
    if (problem.isPresent()) {
      return bad("--data", problem.get(), DEMO);
    }
    return new RunDemo(Optional.of(absolute(cwd, data)));
  }

  static URI hubUri(String value) {
    if (value == null) {
      return DEFAULT_HUB;
    }
    URI uri = URI.create(value);
    // One form for every caller: no trailing slash, so paths can be appended.
    return uri.getRawPath() != null && uri.getRawPath().equals("/")
        ? URI.create(value.substring(0, value.length() - 1))
        : uri;
  }

  private static Path absolute(Path cwd, String value) {
    if (value.isBlank()) {
      throw new InvalidPathException(value, "the path is empty");
    }
    return cwd.resolve(value).toAbsolutePath().normalize();
  }

  private static Optional<String> checkPath(Path cwd, String value) {
    try {
      absolute(cwd, value);
      return Optional.empty();
    } catch (InvalidPathException e) {
      return Optional.of("'" + value + "' is not a valid path: " + e.getReason());
    }
  }

  private static Optional<String> checkDataDir(Path cwd, String value) {
    Optional<String> problem = checkPath(cwd, value);
    if (problem.isEmpty() && absolute(cwd, value).toString().indexOf(',') >= 0) {
      // FileInstall takes a comma-separated list of folders: a comma would split this one.
      return Optional.of("'" + value + "' contains a comma, which the runtime cannot use");
    }
    return problem;
  }

  /** Empty when {@code value} is a TCP port number, 1 to 65535, else why not. */
  static Optional<String> checkPort(String value) {
    String expected = "expected a port number from 1 to 65535";
    if (!value.matches("[0-9]{1,5}")) {
      return Optional.of("'" + value + "' is not a port number; " + expected);
    }
    int port = Integer.parseInt(value);
    if (port < 1 || port > 65535) {
      return Optional.of("port " + port + " is out of range; " + expected);
    }
    return Optional.empty();
  }

  /** The transport configuration key each TLS option sets. */
  static final Map<String, String> TLS_KEYS =
      Map.of(
          "--ca", "tls.ca.file",
          "--cert", "tls.cert.file",
          "--key", "tls.key.file",
          "--pkcs12", "tls.pkcs12.file",
          "--alpn", "tls.alpn");

  /** A gateway's broker may be tcp:// or, with mutual TLS, ssl://. */
  static Optional<String> checkGatewayBroker(String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    if (lower.startsWith("ssl://")) {
      URI uri;
      try {
        uri = new URI(url);
      } catch (URISyntaxException e) {
        return Optional.of("'" + url + "' is not a URL (" + e.getReason() + ")");
      }
      return checkHostPortOnly(
          url, uri, "expected tcp://HOST:PORT or ssl://HOST:PORT with PORT 1-65535", true);
    }
    return checkBroker(url);
  }

  /**
   * Empty when the TLS options fit together and with the broker, else the option and why. A
   * certificate needs its key and the reverse; PKCS#12 replaces both; TLS options need an ssl://
   * broker when the broker is given on the command line.
   */
  static Optional<Map.Entry<String, String>> checkTlsCombination(
      Map<String, String> given, String broker) {
    boolean cert = given.containsKey("--cert");
    boolean key = given.containsKey("--key");
    if (cert != key) {
      return Optional.of(
          Map.entry(
              cert ? "--cert" : "--key", "needs " + (cert ? "--key" : "--cert") + " as well"));
    }
    if (given.containsKey("--pkcs12") && cert) {
      return Optional.of(
          Map.entry(
              "--pkcs12", "holds the certificate and its key: give it or --cert/--key, not both"));
    }
    boolean anyTls = TLS_KEYS.keySet().stream().anyMatch(given::containsKey);
    if (anyTls && broker != null && !broker.toLowerCase(Locale.ROOT).startsWith("ssl://")) {
      return Optional.of(
          Map.entry(
              "--broker",
              "'"
                  + broker
                  + "' is not ssl://, but TLS options (--ca, --cert, --key, --pkcs12,"
                  + " --alpn) were given"));
    }
    return Optional.empty();
  }

  private static Optional<String> checkReadableFile(Path cwd, String value) {
    Optional<String> problem = checkPath(cwd, value);
    if (problem.isPresent()) {
      return problem;
    }
    Path p = absolute(cwd, value);
    if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
      return Optional.of("'" + value + "' is not a readable file");
    }
    return Optional.empty();
  }

  private static Optional<String> checkAlpn(String value) {
    for (String protocol : value.split(",", -1)) {
      if (protocol.isBlank() || protocol.length() > 255) {
        return Optional.of(
            "'" + value + "' is not a comma-separated list of protocol names, e.g. x-amzn-mqtt-ca");
      }
    }
    return Optional.empty();
  }

  /** Empty when {@code url} is {@code tcp://host:port} with a port of 1 to 65535, else why not. */
  static Optional<String> checkBroker(String url) {
    String expected = "expected tcp://HOST:PORT with PORT 1-65535";
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return Optional.of("'" + url + "' is not a URL (" + e.getReason() + "); " + expected);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("ssl") || scheme.equals("tls") || scheme.equals("mqtts")) {
      return Optional.of(
          "'" + url + "': TLS brokers (" + scheme + "://) are not supported yet; " + expected);
    }
    if (!scheme.equals("tcp")) {
      return Optional.of("'" + url + "' does not start with tcp://; " + expected);
    }
    if (uri.getRawUserInfo() != null) {
      return Optional.of(
          "'"
              + url
              + "' has a user name in it; set username in org.gantry.transport.mqtt.cfg; "
              + expected);
    }
    return checkHostPortOnly(url, uri, expected, true);
  }

  /**
   * Empty when {@code url} is {@code http://host[:port]} (or https) with nothing after it, else why
   * not.
   */
  static Optional<String> checkHubUrl(String url) {
    String expected = "expected http://HOST:PORT, e.g. " + DEFAULT_HUB;
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return Optional.of("'" + url + "' is not a URL (" + e.getReason() + "); " + expected);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return Optional.of("'" + url + "' does not start with http:// or https://; " + expected);
    }
    if (uri.getRawUserInfo() != null) {
      return Optional.of("'" + url + "' has a user name in it; " + expected);
    }
    return checkHostPortOnly(url, uri, expected, false);
  }

  private static Optional<String> checkHostPortOnly(
      String url, URI uri, String expected, boolean portRequired) {
    if (uri.getHost() == null) {
      return Optional.of("'" + url + "' has no host name, or one that is not valid; " + expected);
    }
    if ((portRequired || uri.getPort() != -1) && (uri.getPort() < 1 || uri.getPort() > 65535)) {
      return Optional.of(
          "'"
              + url
              + "' "
              + (uri.getPort() < 0 ? "has no port" : "has a port out of range")
              + "; "
              + expected);
    }
    String path = uri.getRawPath();
    if ((path != null && !path.isEmpty() && !path.equals("/"))
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      return Optional.of("'" + url + "' has more than a host and a port; " + expected);
    }
    return Optional.empty();
  }

  /** Empty when {@code name} is a valid AWS IoT thing name, else why not. */
  static Optional<String> checkThingName(String name) {
    if (THING_NAME.matcher(name).matches()) {
      return Optional.empty();
    }
    return Optional.of(
        "'"
            + name
            + "' is not a thing name: 1 to 128 characters of a-z A-Z 0-9 : _ - "
            + "(it is "
            + name.length()
            + " characters long"
            + (name.isEmpty() ? ")" : ", first offending character at " + firstBad(name) + ")"));
  }

  /** Empty when {@code id} is a valid AWS IoT job id, else why not. */
  static Optional<String> checkJobId(String id) {
    if (JOB_ID.matcher(id).matches()) {
      return Optional.empty();
    }
    String bad = "";
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!JOB_ID.matcher(String.valueOf(c)).matches()) {
        bad = ", first offending character at position " + (i + 1) + " ('" + c + "')";
        break;
      }
    }
    if (bad.isEmpty() && id.length() > 64) {
      bad = ", first offending character at position 65";
    }
    return Optional.of(
        "'"
            + id
            + "' is not a job id: 1 to 64 characters of a-z A-Z 0-9 _ - (it is "
            + id.length()
            + " characters long"
            + bad
            + ")");
  }

  private static String firstBad(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!THING_NAME.matcher(String.valueOf(c)).matches()) {
        return "position " + (i + 1) + " ('" + c + "')";
      }
    }
    return "position 129";
  }

  static String topHelp() {
    return """
        Usage: gantry COMMAND [OPTIONS]

        Gantry carries out AWS IoT Jobs on an industrial gateway, on Apache Felix.

        Commands:
          gateway     Run the gateway role in the foreground: MQTT transport, job engine and
                      the operations installed (features gantry-gateway, gantry-op-diagnostics).
          hub         Run the hub role in the foreground: an embedded MQTT broker, the AWS IoT
                      Jobs device API and the management HTTP API (feature gantry-hub).
          jobs        Operators' commands for jobs on a hub: list, create (targets, rollout,
                      abort, timeouts, retries), describe, cancel, delete, executions, and
                      watch, a live view of a rollout.
          things      Operators' commands for things and thing groups on a hub: list,
                      create, describe, their jobs, principals; things group ....
          demo        Start a hub and a gateway on this machine, send them sample jobs, show
                      what happens, stop both.

        Options:
          -h, --help  Print this help and exit.

        Run 'gantry COMMAND --help' for the options of a command.
        """;
  }

  static String gatewayHelp(Path home) {
    String h = home == null ? "HOME" : home.toString();
    return String.join(
        "\n",
        "Usage: gantry gateway [--broker URL] [--thing NAME] [--data DIR] [--config DIR] [--shell]",
        "                      [--ca FILE] [--cert FILE --key FILE | --pkcs12 FILE] [--alpn LIST]",
        "",
        "Runs the gateway role (features " + String.join(", ", Role.GATEWAY.features()) + ")",
        "in the foreground until SIGTERM or SIGINT, then stops it cleanly (at most 20 s).",
        "At start the *.cfg files of the config folder are copied to the data folder's config/",
        "with the options below applied on top; that copy is what runs. Bundles and .cfg files",
        "dropped into",
        "  " + h + "/deploy while it runs are picked up within a second.",
        "",
        "Options:",
        "  --broker URL  The MQTT broker, tcp://HOST:PORT or ssl://HOST:PORT (mutual TLS; PORT",
        "                1-65535). Sets broker.url in org.gantry.transport.mqtt.cfg.",
        "                Default: broker.url of the config folder (tcp://127.0.0.1:1883 as shipped).",
        "  --thing NAME  The AWS IoT thing name, 1-128 of a-z A-Z 0-9 : _ -. Sets thing.name in",
        "                org.gantry.engine.cfg and client.id in org.gantry.transport.mqtt.cfg.",
        "                Default: thing.name of the config folder (not set as shipped: then required).",
        "  --data DIR    The folder for everything the gateway writes: journal, configuration copy,",
        "                Felix cache, logs. Created if missing. Sets data.dir in org.gantry.engine.cfg.",
        "                Default: " + h + "/data",
        "  --config DIR  The folder of *.cfg files read at start. Default: " + h + "/etc",
        "  --shell       Also run the Gogo shell on this console. Default: off.",
        "  --ca FILE     PEM bundle of the CA(s) that signed the broker's certificate (AWS IoT:",
        "                AmazonRootCA1.pem). Sets tls.ca.file.",
        "  --cert FILE   The device certificate, PEM, as AWS IoT issues it. Sets tls.cert.file.",
        "  --key FILE    Its private key, PEM (PKCS#1, PKCS#8 or EC). Sets tls.key.file.",
        "  --pkcs12 FILE Certificate and key in one PKCS#12 file, instead of --cert/--key (its",
        "                password: .tls.pkcs12.password in the config file). Sets tls.pkcs12.file.",
        "  --alpn LIST   ALPN protocols, e.g. x-amzn-mqtt-ca for MQTT on port 443. Sets tls.alpn.",
        "                Default for all TLS options: the config folder's values.",
        "  -h, --help    Print this help and exit.",
        "",
        "Exit status: 0 after a clean stop, 1 if the runtime could not start,",
        "2 for a bad command line or configuration.",
        "");
  }

  static String hubHelp(Path home) {
    String h = home == null ? "HOME" : home.toString();
    return String.join(
        "\n",
        "Usage: gantry hub [--mqtt-port N] [--api-port N] [--broker URL] [--data DIR] [--config DIR]",
        "",
        "Runs the hub role (feature " + String.join(", ", Role.HUB.features()) + ") in the",
        "foreground until SIGTERM or SIGINT, then stops it cleanly (at most 20 s): an embedded",
        "MQTT broker, the AWS IoT Jobs device API on it, and the management HTTP API in the AWS IoT",
        "REST shapes (things, thing groups, jobs and executions: see 'gantry jobs --help' and",
        "'gantry things --help'). Everything listens on 127.0.0.1 only; the API asks for a bearer",
        "token or a SigV4 signature once api.auth.* is set in org.gantry.hub.cfg (see",
        "bundles/hub/README.md). Jobs and executions are kept in the data folder: a restart loses",
        "none.",
        "At start the *.cfg files of the config folder are copied to the data folder's config/",
        "with the options below applied on top; that copy is what runs.",
        "",
        "Options:",
        "  --mqtt-port N  The embedded broker's port on 127.0.0.1 (1-65535). Sets port in",
        "                 org.gantry.broker.cfg and mqtt.url in org.gantry.hub.cfg.",
        "                 Default: port of the config folder's org.gantry.broker.cfg, else "
            + HubDefaults.MQTT_PORT
            + ".",
        "  --api-port N   The management API's port on 127.0.0.1 (1-65535). Sets api.port in",
        "                 org.gantry.hub.cfg. Default: api.port of the config folder, else "
            + HubDefaults.API_PORT
            + ".",
        "  --broker URL   Use this external MQTT broker, tcp://HOST:PORT, instead of the embedded",
        "                 one, which is then not started (org.gantry.broker.cfg is left out).",
        "                 Sets mqtt.url in org.gantry.hub.cfg; mqtt.url in the config folder's",
        "                 org.gantry.hub.cfg does the same. Excludes --mqtt-port.",
        "  --data DIR     The folder for everything the hub writes: jobs and executions,",
        "                 configuration copy, Felix cache, logs. Created if missing.",
        "                 Sets data.dir in org.gantry.hub.cfg. Default: " + h + "/data",
        "  --config DIR   The folder of *.cfg files read at start. Default: " + h + "/etc",
        "  -h, --help     Print this help and exit.",
        "",
        "Exit status: 0 after a clean stop, 1 if the runtime could not start (a port in use),",
        "2 for a bad command line or configuration.",
        "");
  }

  static String demoHelp() {
    return String.join(
        "\n",
        "Usage: gantry demo [--data DIR]",
        "",
        "Starts a hub and a gateway as two processes on this machine (127.0.0.1, free ports), waits",
        "until the gateway is subscribed, sends sample jobs through the hub's management API (a",
        "diagnostics job, a job for an operation that is not installed, a two-step job, a",
        "diagnostics job with a mistyped parameter), prints each execution's progress as it",
        "happens and its outcome, then stops both processes (SIGTERM) and exits. Ctrl-C stops",
        "both processes too.",
        "",
        "Options:",
        "  --data DIR  Where the two processes keep their data and logs (DIR/hub, DIR/gateway);",
        "              created if missing, kept afterwards. Default: a new temporary folder.",
        "  -h, --help  Print this help and exit.",
        "",
        "Exit status: 0 when every job reached its expected outcome and both processes started",
        "and stopped cleanly, 1 otherwise, 2 for a bad command line.",
        "");
  }
}
