
set edit:completion:arg-completer[vault] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) VAULT_COMPLETE="elvish" vault -- $@words) | to-lines
}

