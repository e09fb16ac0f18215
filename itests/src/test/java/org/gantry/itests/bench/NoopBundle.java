package org.gantry.itests.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.gantry.itests.bench.noop.NoopActivator;
import org.gantry.itests.bench.noop.NoopOperation;

/**
 * Packs {@link NoopOperation} and {@link NoopActivator} from the test class path into an OSGi
 * bundle for a runtime's {@code deploy/} folder, as an integrator would drop an operation bundle
 * there.
 */
final class NoopBundle {

  static final String SYMBOLIC_NAME = "org.gantry.itests.bench.noop";

  private NoopBundle() {}

  /** Writes the bundle into {@code deploy} (atomically: FileInstall never sees half a jar). */
  static Path writeTo(Path deploy) throws IOException {
    Manifest m = new Manifest();
    Attributes a = m.getMainAttributes();
    a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    a.putValue("Bundle-ManifestVersion", "2");
    a.putValue("Bundle-SymbolicName", SYMBOLIC_NAME);
    a.putValue("Bundle-Version", "1.0.0");
    a.putValue("Bundle-Activator", NoopActivator.class.getName());
    a.putValue(
        "Import-Package",
        "org.gantry.api.operation;version=\"[1.0,2)\",org.osgi.framework;version=\"[1.8,2)\"");
    a.putValue("Require-Capability", "osgi.ee;filter:=\"(&(osgi.ee=JavaSE)(version=17))\"");
    Path tmp = Files.createTempFile(deploy.getParent(), "noop-", ".jar.tmp");
    try (OutputStream out = Files.newOutputStream(tmp);
        JarOutputStream jar = new JarOutputStream(out, m)) {
      for (Class<?> c : List.of(NoopOperation.class, NoopActivator.class)) {
        String entry = c.getName().replace('.', '/') + ".class";
        try (InputStream in = c.getClassLoader().getResourceAsStream(entry)) {
          if (in == null) {
            throw new IOException(entry + " is not on the test class path");
          }
          jar.putNextEntry(new JarEntry(entry));
          in.transferTo(jar);
          jar.closeEntry();
        }
      }
    }
    Path target = deploy.resolve(SYMBOLIC_NAME + ".jar");
    return Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
  }
}
