/**
 * Job documents as the engine sees them once parsed and validated: an ordered list of steps, each
 * naming an operation type and carrying that operation's parameters. The parser is a service so
 * that the engine never depends on a JSON library's types.
 *
 * <p>1.1 adds the final step of a document ({@link
 * org.gantry.api.document.JobDocument#finalStep()}).
 *
 * @since 1.0
 */
@Export
@Version("1.1.0")
package org.gantry.api.document;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
