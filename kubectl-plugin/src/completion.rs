//! `completion bash|zsh|fish|powershell`: shell completion scripts generated from the command
//! tree (sub-commands, their aliases and flags).

use std::fmt::Write;

use clap::ValueEnum;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// Every command path (`""`, `"get"`, `"get rollout"`, …) with its completion words.
struct Node {
    path: String,
    subcommands: Vec<String>,
    flags: Vec<String>,
}

fn collect(cmd: &clap::Command, path: &str, out: &mut Vec<Node>) {
    let mut subcommands = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        subcommands.push(sub.get_name().to_string());
        subcommands.extend(sub.get_visible_aliases().map(str::to_string));
    }
    let mut flags = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(long) = arg.get_long() {
            flags.push(format!("--{long}"));
        }
        if let Some(short) = arg.get_short() {
            flags.push(format!("-{short}"));
        }
    }
    flags.push("--help".into());
    out.push(Node {
        path: path.to_string(),
        subcommands,
        flags,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let names = std::iter::once(sub.get_name()).chain(sub.get_visible_aliases());
        for name in names {
            let child = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path} {name}")
            };
            collect(sub, &child, out);
        }
    }
}

/// The completion script for `shell`, completing the program `bin` (and `kubectl argo rollouts`
/// through kubectl's plugin completion, which calls the plugin's own script).
pub fn generate(cmd: &clap::Command, bin: &str, shell: Shell) -> String {
    let mut cmd = cmd.clone();
    cmd.build();
    let mut nodes = Vec::new();
    collect(&cmd, "", &mut nodes);
    match shell {
        Shell::Bash => bash(bin, &nodes),
        Shell::Zsh => format!(
            "#compdef {bin}\n# zsh completion for {bin}\nautoload -U +X bashcompinit && bashcompinit\n{}",
            bash(bin, &nodes)
        ),
        Shell::Fish => fish(bin, &nodes),
        Shell::Powershell => powershell(bin, &nodes),
    }
}

fn function_name(bin: &str) -> String {
    format!(
        "__{}_complete",
        bin.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}

fn bash(bin: &str, nodes: &[Node]) -> String {
    let func = function_name(bin);
    let mut s = String::new();
    let _ = writeln!(s, "# bash completion for {bin}");
    let _ = writeln!(s, "{func}() {{");
    s.push_str("    local cur path word i\n");
    s.push_str("    cur=\"${COMP_WORDS[COMP_CWORD]}\"\n");
    s.push_str("    path=\"\"\n");
    s.push_str("    for ((i = 1; i < COMP_CWORD; i++)); do\n");
    s.push_str("        word=\"${COMP_WORDS[i]}\"\n");
    s.push_str("        [[ \"$word\" == -* ]] && continue\n");
    s.push_str("        case \"${path:+$path }$word\" in\n");
    let paths: Vec<&str> = nodes
        .iter()
        .map(|n| n.path.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    for p in &paths {
        let _ = writeln!(s, "            \"{p}\") path=\"{p}\" ;;");
    }
    s.push_str("        esac\n");
    s.push_str("    done\n");
    s.push_str("    local words=\"\"\n");
    s.push_str("    case \"$path\" in\n");
    for n in nodes {
        let words: Vec<&str> = n
            .subcommands
            .iter()
            .chain(&n.flags)
            .map(String::as_str)
            .collect();
        let _ = writeln!(
            s,
            "        \"{}\") words=\"{}\" ;;",
            n.path,
            words.join(" ")
        );
    }
    s.push_str("    esac\n");
    s.push_str("    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n");
    s.push_str("}\n");
    let _ = writeln!(s, "complete -o default -F {func} {bin}");
    s
}

fn fish(bin: &str, nodes: &[Node]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# fish completion for {bin}");
    let func = function_name(bin);
    let _ = writeln!(s, "function {func}_path");
    s.push_str("    set -l words (commandline -opc)\n");
    s.push_str("    set -e words[1]\n");
    s.push_str("    set -l path \"\"\n");
    s.push_str("    for w in $words\n");
    s.push_str("        string match -q -- '-*' $w; and continue\n");
    s.push_str("        if test -z \"$path\"\n            set candidate $w\n        else\n            set candidate \"$path $w\"\n        end\n");
    s.push_str("        switch $candidate\n");
    let paths: Vec<&str> = nodes
        .iter()
        .map(|n| n.path.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    let _ = writeln!(
        s,
        "            case {}\n                set path $candidate",
        paths
            .iter()
            .map(|p| format!("'{p}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    s.push_str("        end\n    end\n    echo $path\nend\n");
    let _ = writeln!(s, "complete -c {bin} -f");
    for n in nodes {
        let words: Vec<&str> = n
            .subcommands
            .iter()
            .chain(&n.flags)
            .map(String::as_str)
            .collect();
        let _ = writeln!(
            s,
            "complete -c {bin} -n 'test \"({func}_path)\" = \"{}\"' -a '{}'",
            n.path,
            words.join(" ")
        );
    }
    s
}

fn powershell(bin: &str, nodes: &[Node]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# powershell completion for {bin}");
    s.push_str("$__kar_words = @{\n");
    for n in nodes {
        let words: Vec<String> = n
            .subcommands
            .iter()
            .chain(&n.flags)
            .map(|w| format!("'{w}'"))
            .collect();
        let _ = writeln!(s, "    '{}' = @({})", n.path, words.join(", "));
    }
    s.push_str("}\n");
    let _ = writeln!(
        s,
        "Register-ArgumentCompleter -Native -CommandName '{bin}' -ScriptBlock {{"
    );
    s.push_str("    param($wordToComplete, $commandAst, $cursorPosition)\n");
    s.push_str("    $path = ''\n");
    s.push_str("    foreach ($e in ($commandAst.CommandElements | Select-Object -Skip 1)) {\n");
    s.push_str("        $w = $e.ToString()\n");
    s.push_str("        if ($w -eq $wordToComplete -or $w.StartsWith('-')) { continue }\n");
    s.push_str("        $candidate = if ($path) { \"$path $w\" } else { $w }\n");
    s.push_str("        if ($__kar_words.ContainsKey($candidate)) { $path = $candidate }\n");
    s.push_str("    }\n");
    s.push_str("    $__kar_words[$path] | Where-Object { $_ -like \"$wordToComplete*\" } | ForEach-Object {\n");
    s.push_str("        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)\n");
    s.push_str("    }\n}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn scripts_list_commands_and_flags() {
        let cmd = crate::cli::Cli::command();
        let bash = generate(&cmd, "kubectl-argo-rollouts", Shell::Bash);
        assert!(bash.contains(
            "complete -o default -F __kubectl_argo_rollouts_complete kubectl-argo-rollouts"
        ));
        assert!(bash.contains("\"get rollout\") path=\"get rollout\""));
        assert!(bash.contains("--full"));
        assert!(
            !bash.contains("--skip-all-steps"),
            "deprecated flags stay hidden"
        );
        let zsh = generate(&cmd, "kubectl-argo-rollouts", Shell::Zsh);
        assert!(zsh.starts_with("#compdef kubectl-argo-rollouts"));
        let fish = generate(&cmd, "kubectl-argo-rollouts", Shell::Fish);
        assert!(fish.contains("complete -c kubectl-argo-rollouts"));
        let ps = generate(&cmd, "kubectl-argo-rollouts", Shell::Powershell);
        assert!(ps.contains("Register-ArgumentCompleter"));
    }
}
