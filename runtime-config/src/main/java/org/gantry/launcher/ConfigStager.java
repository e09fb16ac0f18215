package org.gantry.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
  static final String SUFFIX = ".cfg";

  /** One configuration file as it will be written: its name, where it came from, its entries. */
  record Staged(String name, Path source, Map<String, String> properties) {
    Staged {
      properties = Collections.unmodifiableMap(new TreeMap<>(properties));
    }
  }

  /** What {@link #write} did. */
  record Report(List<String> written, List<String> removed) {}

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
    Map<String, Staged> files = new TreeMap<>();
    for (Path source : configFiles(configDir)) {
      String name = source.getFileName().toString();
      files.put(name, new Staged(name, source, load(source)));
    }

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
