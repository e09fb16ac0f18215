package org.gantry.launcher;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Parses {@code bin/gantry}'s arguments. Parsing never touches the file system: whether the data
 * folder can be created is the launcher's question.
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

  static final Pattern THING_NAME = Pattern.compile("[a-zA-Z0-9:_-]{1,128}");

  private static final String TOP_HINT = "Run 'gantry --help' for usage.";
  private static final String GATEWAY_HINT = "Run 'gantry gateway --help' for usage.";
  private static final List<String> HELP = List.of("--help", "-h");

  private CommandLine() {}

  /**
   * @param args the arguments as given to {@code bin/gantry}
   * @param home the runtime folder, for the defaults shown in help; may be null
   * @param cwd the caller's working directory, against which relative paths are resolved
   */
  static Command parse(String[] args, Path home, Path cwd) {
    if (args.length == 0) {
      return new Refused("no command given", TOP_HINT);
    }
    String first = args[0];
    if (HELP.contains(first)) {
      return new Help(topHelp());
    }
    if (first.startsWith("-")) {
      return new Refused("unknown option '" + first + "'", TOP_HINT);
    }
    if (first.equals(Role.GATEWAY.command())) {
      return parseGateway(Arrays.copyOfRange(args, 1, args.length), home, cwd);
    }
    return new Refused("unknown command '" + first + "' (commands: gateway)", TOP_HINT);
  }

  private static Command parseGateway(String[] args, Path home, Path cwd) {
    // --help wins over anything else on the line, as people add it to a failing command line.
    for (String arg : args) {
      if (HELP.contains(arg)) {
        return new Help(gatewayHelp(home));
      }
    }
    String broker = null;
    String thing = null;
    Path data = null;
    Path config = null;
    boolean shell = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String option = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        option = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      switch (option) {
        case "--shell" -> {
          if (value != null) {
            return new Refused("--shell takes no value", GATEWAY_HINT);
          }
          shell = true;
        }
        case "--broker", "--thing", "--data", "--config" -> {
          if (value == null) {
            if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
              return new Refused(
                  option + " needs a value: " + option + " " + metavar(option), GATEWAY_HINT);
            }
            value = args[++i];
          }
          boolean repeated =
              switch (option) {
                case "--broker" -> broker != null;
                case "--thing" -> thing != null;
                case "--data" -> data != null;
                default -> config != null;
              };
          if (repeated) {
            return new Refused(option + " is given twice", GATEWAY_HINT);
          }
          Optional<String> problem;
          switch (option) {
            case "--broker" -> {
              problem = checkBroker(value);
              broker = value;
            }
            case "--thing" -> {
              problem = checkThingName(value);
              thing = value;
            }
            case "--data" -> {
              problem = Optional.empty();
              try {
                data = absolute(cwd, value);
              } catch (InvalidPathException e) {
                problem = Optional.of("'" + value + "' is not a valid path: " + e.getReason());
              }
              if (problem.isEmpty() && data.toString().indexOf(',') >= 0) {
                // FileInstall takes a comma-separated list of folders: a comma would split this
                // one.
                problem =
                    Optional.of("'" + value + "' contains a comma, which the runtime cannot use");
              }
            }
            default -> {
              problem = Optional.empty();
              try {
                config = absolute(cwd, value);
              } catch (InvalidPathException e) {
                problem = Optional.of("'" + value + "' is not a valid path: " + e.getReason());
              }
            }
          }
          if (problem.isPresent()) {
            return new Refused("bad " + option + " value: " + problem.get(), GATEWAY_HINT);
          }
        }
        default -> {
          if (arg.startsWith("-")) {
            return new Refused("unknown option '" + arg + "' for gateway", GATEWAY_HINT);
          }
          return new Refused("unexpected argument '" + arg + "'", GATEWAY_HINT);
        }
      }
    }
    return new RunGateway(
        new GatewayOptions(
            Optional.ofNullable(broker),
            Optional.ofNullable(thing),
            Optional.ofNullable(data),
            Optional.ofNullable(config),
            shell));
  }

  private static Path absolute(Path cwd, String value) {
    if (value.isBlank()) {
      throw new InvalidPathException(value, "the path is empty");
    }
    return cwd.resolve(value).toAbsolutePath().normalize();
  }

  private static String metavar(String option) {
    return switch (option) {
      case "--broker" -> "tcp://HOST:PORT";
      case "--thing" -> "NAME";
      default -> "DIR";
    };
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
    if (uri.getHost() == null) {
      return Optional.of("'" + url + "' has no host name, or one that is not valid; " + expected);
    }
    if (uri.getPort() < 1 || uri.getPort() > 65535) {
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
        "",
        "Runs the gateway role (features " + String.join(", ", Role.GATEWAY.features()) + ")",
        "in the foreground until SIGTERM or SIGINT, then stops it cleanly (at most 20 s).",
        "At start the *.cfg files of the config folder are copied to the data folder's config/",
        "with the options below applied on top; that copy is what runs. Bundles and .cfg files",
        "dropped into",
        "  " + h + "/deploy while it runs are picked up within a second.",
        "",
        "Options:",
        "  --broker URL  The MQTT broker, tcp://HOST:PORT (PORT 1-65535; ssl:// is not supported",
        "                yet). Sets broker.url in org.gantry.transport.mqtt.cfg.",
        "                Default: broker.url of the config folder (tcp://127.0.0.1:1883 as shipped).",
        "  --thing NAME  The AWS IoT thing name, 1-128 of a-z A-Z 0-9 : _ -. Sets thing.name in",
        "                org.gantry.engine.cfg and client.id in org.gantry.transport.mqtt.cfg.",
        "                Default: thing.name of the config folder (not set as shipped: then required).",
        "  --data DIR    The folder for everything the gateway writes: journal, configuration copy,",
        "                Felix cache, logs. Created if missing. Sets data.dir in org.gantry.engine.cfg.",
        "                Default: " + h + "/data",
        "  --config DIR  The folder of *.cfg files read at start. Default: " + h + "/etc",
        "  --shell       Also run the Gogo shell on this console. Default: off.",
        "  -h, --help    Print this help and exit.",
        "",
        "Exit status: 0 after a clean stop, 1 if the runtime could not start,",
        "2 for a bad command line or configuration.",
        "");
  }
}
