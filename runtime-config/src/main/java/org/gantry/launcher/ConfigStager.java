package org.gantry.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Turns the configuration folder ({@code etc/} or {@code --config}) plus the command line into the
 * files FileInstall loads ({@code DATA/config/}).
 *
 * <p>Why a copy: FileInstall watches {@code DATA/config/}, so what runs is exactly what was decided
 * at start, the operator's {@code etc/} is never written to, and a command-line option wins without
 * editing anyone's file. Precedence, highest first: command-line option, the folder's file, the
 * launcher's default ({@code data.dir} = the data folder; {@code client.id} = the thing name).
 */
final class ConfigStager {

  static final String ENGINE = "org.gantry.engine.cfg";
  static final String TRANSPORT = "org.gantry.transport.mqtt.cfg";
  static final String HUB = "org.gantry.hub.cfg";
  static final String BROKER = "org.gantry.broker.cfg";
  static final String SUFFIX = ".cfg";

  /**
   * The files of one role that the other role leaves out: one config folder serves both roles, and
   * a configuration nobody uses would only confuse whoever reads {@code DATA/config/}.
   */
  static final Set<String> GATEWAY_ONLY = Set.of(ENGINE, TRANSPORT);

  static final Set<String> HUB_ONLY = Set.of(HUB, BROKER);

  /** One configuration file as it will be written: its name, where it came from, its entries. */
  record Staged(String name, Path source, Map<String, String> properties) {
    Staged {
      properties = Collections.unmodifiableMap(new TreeMap<>(properties));
    }
  }

  /** What {@link #write} did. */
  record Report(List<String> written, List<String> removed) {}

  /**
   * The hub role's files and what they decide.
   *
   * @param embeddedBroker where the embedded broker will listen; empty when the hub uses an
   *     external broker (then {@code org.gantry.broker.cfg} is left out, so the broker component,
   *     which requires its configuration, does not start)
   * @param mqttUrl the broker the hub connects to
   */
  record HubPlan(
      List<Staged> files,
      Optional<InetSocketAddress> embeddedBroker,
      String mqttUrl,
      InetSocketAddress api) {}

  private ConfigStager() {}

  /**
   * Reads every {@code *.cfg} of {@code configDir} and applies the options and defaults.
   *
   * @param dataDir the data folder in effect (the default for {@code data.dir})
   * @return the files to write, by name, in name order
   * @throws ConfigException if a file cannot be read as properties, or a required value is missing
   */
  static List<Staged> stage(Path configDir, GatewayOptions options, Path dataDir)
      throws ConfigException {
    Map<String, Staged> files = read(configDir, HUB_ONLY);

    Map<String, Map<String, String>> overrides = new TreeMap<>();
    options.broker().ifPresent(b -> put(overrides, TRANSPORT, "broker.url", b));
    options
        .thing()
        .ifPresent(
            t -> {
              put(overrides, ENGINE, "thing.name", t);
              put(overrides, TRANSPORT, "client.id", t);
            });
    options.dataDir().ifPresent(d -> put(overrides, ENGINE, "data.dir", d.toString()));
    options.tls().forEach((k, v) -> put(overrides, TRANSPORT, k, v));

    for (Map.Entry<String, Map<String, String>> override : overrides.entrySet()) {
      String name = override.getKey();
      Staged current = files.get(name);
      Map<String, String> merged = new TreeMap<>(current == null ? Map.of() : current.properties());
      merged.putAll(override.getValue());
      files.put(name, new Staged(name, current == null ? null : current.source(), merged));
    }

    // Defaults that depend on other values: only where neither the file nor an option set them.
    Staged engine = files.get(ENGINE);
    Map<String, String> engineProps =
        new TreeMap<>(engine == null ? Map.of() : engine.properties());
    engineProps.putIfAbsent("data.dir", dataDir.toString());
    files.put(ENGINE, new Staged(ENGINE, engine == null ? null : engine.source(), engineProps));

    String thing = engineProps.getOrDefault("thing.name", "").trim();
    if (thing.isEmpty()) {
      throw new ConfigException(
          "no thing name: give --thing NAME or set thing.name in " + configDir.resolve(ENGINE));
    }
    Staged transport = files.get(TRANSPORT);
    Map<String, String> transportProps =
        new TreeMap<>(transport == null ? Map.of() : transport.properties());
    if (transportProps.getOrDefault("broker.url", "").trim().isEmpty()) {
      throw new ConfigException(
          "no broker URL: give --broker URL or set broker.url in " + configDir.resolve(TRANSPORT));
    }
    transportProps.putIfAbsent("client.id", thing);
    files.put(
        TRANSPORT,
        new Staged(TRANSPORT, transport == null ? null : transport.source(), transportProps));

    return List.copyOf(files.values());
  }

  /**
   * Reads every {@code *.cfg} of {@code configDir} but the gateway's own and applies the hub's
   * options and defaults. The embedded broker runs unless an external one is named, by {@code
   * --broker} or by {@code mqtt.url} in the folder's {@code org.gantry.hub.cfg}.
   *
   * @param dataDir the data folder in effect (the default for {@code data.dir})
   * @throws ConfigException if a file cannot be read as properties, or a value is invalid
   */
  static HubPlan stageHub(Path configDir, HubOptions options, Path dataDir) throws ConfigException {
    Map<String, Staged> files = read(configDir, GATEWAY_ONLY);
    Staged hubFile = files.get(HUB);
    Map<String, String> hub = new TreeMap<>(hubFile == null ? Map.of() : hubFile.properties());
    Path hubSource = configDir.resolve(HUB);

    String fileUrl = hub.getOrDefault("mqtt.url", "").trim();
    Optional<InetSocketAddress> embedded;
    String mqttUrl;
    if (options.broker().isPresent() || !fileUrl.isEmpty()) {
      mqttUrl = options.broker().orElse(fileUrl);
      if (options.broker().isEmpty()) {
        Optional<String> problem = CommandLine.checkBroker(fileUrl);
        if (problem.isPresent()) {
          throw new ConfigException("bad mqtt.url in " + hubSource + ": " + problem.get());
        }
        if (options.mqttPort().isPresent()) {
          throw new ConfigException(
              "--mqtt-port sets the embedded broker's port, but mqtt.url in "
                  + hubSource
                  + " names an external broker ("
                  + fileUrl
                  + "): remove one of them");
        }
      }
      files.remove(BROKER);
      embedded = Optional.empty();
    } else {
      Staged brokerFile = files.get(BROKER);
      Path brokerSource = configDir.resolve(BROKER);
      Map<String, String> broker =
          new TreeMap<>(brokerFile == null ? Map.of() : brokerFile.properties());
      int port;
      if (options.mqttPort().isPresent()) {
        port = options.mqttPort().get();
      } else {
        port = portIn(broker, "port", brokerSource, HubDefaults.MQTT_PORT);
      }
      String host = broker.getOrDefault("host", "").trim();
      if (host.isEmpty()) {
        host = HubDefaults.BROKER_HOST;
      }
      broker.put("port", Integer.toString(port));
      broker.put("host", host);
      files.put(
          BROKER, new Staged(BROKER, brokerFile == null ? null : brokerFile.source(), broker));
      String connectHost = isWildcard(host) ? HubDefaults.BROKER_HOST : host;
      mqttUrl =
          "tcp://"
              + (connectHost.indexOf(':') >= 0 ? "[" + connectHost + "]" : connectHost)
              + ":"
              + port;
      embedded = Optional.of(InetSocketAddress.createUnresolved(host, port));
    }
    hub.put("mqtt.url", mqttUrl);

    int apiPort;
    if (options.apiPort().isPresent()) {
      apiPort = options.apiPort().get();
    } else {
      apiPort = portIn(hub, "api.port", hubSource, HubDefaults.API_PORT);
    }
    hub.put("api.port", Integer.toString(apiPort));
    String apiHost = hub.getOrDefault("api.host", "").trim();
    if (apiHost.isEmpty()) {
      apiHost = HubDefaults.BROKER_HOST;
    }
    if (embedded.isPresent() && embedded.get().getPort() == apiPort) {
      throw new ConfigException(
          "the embedded broker and the management API would both listen on port "
              + apiPort
              + ": give --mqtt-port and --api-port different ports");
    }
    if (options.dataDir().isPresent()) {
      hub.put("data.dir", options.dataDir().get().toString());
    } else {
      hub.putIfAbsent("data.dir", dataDir.toString());
    }
    files.put(HUB, new Staged(HUB, hubFile == null ? null : hubFile.source(), hub));
    return new HubPlan(
        List.copyOf(files.values()),
        embedded,
        mqttUrl,
        InetSocketAddress.createUnresolved(apiHost, apiPort));
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  private static int portIn(Map<String, String> props, String key, Path file, int fallback)
      throws ConfigException {
    String value = props.getOrDefault(key, "").trim();
    if (value.isEmpty()) {
      return fallback;
    }
    Optional<String> problem = CommandLine.checkPort(value);
    if (problem.isPresent()) {
      throw new ConfigException("bad " + key + " in " + file + ": " + problem.get());
    }
    return Integer.parseInt(value);
  }

  private static Map<String, Staged> read(Path configDir, Set<String> leftOut)
      throws ConfigException {
    Map<String, Staged> files = new TreeMap<>();
    for (Path source : configFiles(configDir)) {
      String name = source.getFileName().toString();
      if (!leftOut.contains(name)) {
        files.put(name, new Staged(name, source, load(source)));
      }
    }
    return files;
  }

  /** The files of {@code configDir} that are not configuration, so the caller can say so. */
  static List<Path> ignoredFiles(Path configDir) throws ConfigException {
    Set<Path> cfg = Set.copyOf(configFiles(configDir));
    List<Path> ignored = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(configDir)) {
      for (Path p : entries) {
        if (!cfg.contains(p)) {
          ignored.add(p);
        }
      }
    } catch (IOException e) {
      throw new ConfigException("cannot list the config folder " + configDir + ": " + e, e);
    }
    Collections.sort(ignored);
    return ignored;
  }

  private static void put(
      Map<String, Map<String, String>> overrides, String file, String key, String value) {
    overrides.computeIfAbsent(file, f -> new TreeMap<>()).put(key, value);
  }

  private static List<Path> configFiles(Path configDir) throws ConfigException {
    if (!Files.isDirectory(configDir)) {
      throw new ConfigException("the config folder " + configDir + " does not exist");
    }
    List<Path> result = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(configDir, "*" + SUFFIX)) {
      for (Path p : entries) {
        if (Files.isRegularFile(p)) {
          result.add(p);
        }
      }
    } catch (IOException e) {
      throw new ConfigException("cannot list the config folder " + configDir + ": " + e, e);
    }
    Collections.sort(result);
    return result;
  }

  private static Map<String, String> load(Path file) throws ConfigException {
    // ISO-8859-1 with \\u escapes: what both java.util.Properties and FileInstall read by default.
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new ConfigException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + " is not a properties file: " + e.getMessage(), e);
    }
    Map<String, String> result = new TreeMap<>();
    for (String key : p.stringPropertyNames()) {
      result.put(key, p.getProperty(key));
    }
    return result;
  }

  /**
   * Writes the files into {@code targetDir}, each atomically (a temporary file, forced to disk,
   * then renamed over the old one, so FileInstall never reads half a file), and removes every other
   * regular file there: a file deleted from the config folder must not live on in the copy.
   */
  static Report write(Path targetDir, List<Staged> files) throws IOException {
    Files.createDirectories(targetDir);
    List<String> written = new ArrayList<>();
    for (Staged file : files) {
      writeAtomically(targetDir.resolve(file.name()), render(file));
      written.add(file.name());
    }
    Set<String> keep = files.stream().map(Staged::name).collect(Collectors.toSet());
    List<String> removed = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(targetDir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (Files.isRegularFile(p) && !keep.contains(name)) {
          Files.delete(p);
          removed.add(name);
        }
      }
    }
    Collections.sort(removed);
    return new Report(List.copyOf(written), List.copyOf(removed));
  }

  static void writeAtomically(Path target, byte[] content) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    // A dot name and a .tmp suffix: FileInstall's filter (*.cfg, *.config, *.jar) never matches it.
    Path temp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
    try {
      try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.WRITE)) {
        out.write(content);
      }
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      try {
        Files.move(
            temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  static byte[] render(Staged file) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Written by bin/gantry at start from ")
        .append(
            file.source() == null ? "the command line" : file.source() + " and the command line")
        .append(".\n# Edit the source, not this copy: it is rewritten at every start.\n");
    for (Map.Entry<String, String> e : file.properties().entrySet()) {
      sb.append(escape(e.getKey(), true)).append(" = ").append(escape(e.getValue(), false));
      sb.append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * Escapes the way {@link Properties#store} does, so java.util.Properties and FileInstall read
   * back the same string; characters outside printable ASCII become {@code \}{@code uXXXX}.
   */
  static String escape(String s, boolean key) {
    StringBuilder sb = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '\t' -> sb.append("\\t");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\f' -> sb.append("\\f");
        case ' ' -> sb.append(key || i == 0 ? "\\ " : " ");
        case '=', ':', '#', '!' -> {
          if (key || i == 0) {
            sb.append('\\');
          }
          sb.append(c);
        }
        default -> {
          if (c < 0x20 || c > 0x7e) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }
}
