"""JVM build tools: Maven and Gradle (and their wrappers, ``./mvnw``, ``./gradlew``).

Building, testing and installing into the local repository (``~/.m2``) are ordinary local work.
The goals and tasks that upload artifacts to a remote repository (``mvn deploy``,
``mvn release:perform``, ``gradle publish``, ``publishToSonatype``) publish a version that other
builds will fetch and that a public index will not let anyone replace: tagged ``publish``, like
``npm publish``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Reversibility, Target, Verb

# Maven lifecycle phase `deploy` and plugin goals that upload (maven-deploy-plugin,
# maven-release-plugin, nexus-staging, central-publishing).
_MAVEN_PUBLISH = re.compile(
    r"^(deploy|deploy:deploy(-file)?|release:perform|nexus-staging:(deploy|release)"
    r"|central-publishing:publish)$"
)
_MAVEN_VALUED = frozenset({"-f", "--file", "-s", "--settings", "-P", "--activate-profiles", "-pl",
                           "--projects", "-rf", "--resume-from", "-T", "--threads", "-gs",
                           "--global-settings", "-t", "--toolchains", "-l", "--log-file"})  # fmt: skip
# Gradle tasks that upload: publish, publish<Publication>To<Repository>, publishToSonatype,
# publishPlugins, uploadArchives, closeAndReleaseSonatypeStagingRepository, bintrayUpload.
_GRADLE_PUBLISH = re.compile(
    r"^(:?[\w-]+:)*(publish(?!ToMavenLocal$)(\w*)|uploadArchives|bintrayUpload"
    r"|closeAndRelease\w*|release\w*Repository)$"
)
_GRADLE_VALUED = frozenset({"-p", "--project-dir", "-b", "--build-file", "-c", "--settings-file",
                            "-x", "--exclude-task", "-g", "--gradle-user-home", "-I", "--init-script",
                            "--max-workers"})  # fmt: skip


def _operands(inv: Invocation, valued: frozenset[str]) -> list[str]:
    found: list[str] = []
    skip = False
    for word in inv.args:
        if skip:
            skip = False
        elif word.text in valued:
            skip = True
        elif not word.text.startswith("-"):
            found.append(word.text)
    return found


def _build(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    maven = inv.name.startswith("mvn")
    flags = {w.text for w in inv.args}
    operands = _operands(inv, _MAVEN_VALUED if maven else _GRADLE_VALUED)
    pattern = _MAVEN_PUBLISH if maven else _GRADLE_PUBLISH
    publishing = [task for task in operands if pattern.match(task)]
    dry = not maven and bool(flags & {"-m", "--dry-run"})
    if publishing and not dry:
        tool = "mvn" if maven else "gradle"
        yield effect(
            inv,
            Verb.MODIFY,
            Target("package", f"{tool} {' '.join(publishing)}"),
            f"{tool} {' '.join(publishing)} uploads artifacts to a remote repository; "
            "a released version cannot be replaced",
            reversibility=Reversibility.IRREVERSIBLE,
            tags={"publish", "package-registry"},
        )
        return
    what = " ".join(operands[:3]) or "the default tasks"
    yield ordinary_program(inv, f"build with {inv.name} ({what})")


FAMILIES = (
    CommandFamily.of(["mvn", "mvnw", "mvnw.cmd", "gradle", "gradlew", "gradlew.bat"], _build),
)
